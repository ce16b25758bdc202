/** `nori flower`: the monitoring server (Flower's API, /metrics, the live page) until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { AppSource } from '../load-app.js';
import { startFlower } from '../flower/server.js';
import { UsageError } from '../errors.js';
import type { OidcOptions } from '../flower/oidc.js';
import { bool, duration, int, list } from '../parse.js';
import { withApp } from '../with-app.js';

interface FlowerCliOptions extends AppSource {
  port: number;
  address: string;
  basicAuth?: string[];
  unauthenticatedApi?: boolean;
  allowedHosts?: string[];
  auth?: string;
  oauth2Issuer?: string;
  oauth2Key?: string;
  oauth2RedirectUri?: string;
  readOnly?: boolean;
  inspectTimeout: number;
  maxTasks: number;
}

/** Flower's variable is FLOWER_UNAUTHENTICATED_API; nori's has the NORI_ prefix of its others. */
export const UNAUTHENTICATED_API_ENV = 'NORI_FLOWER_UNAUTHENTICATED_API';
/** Flower's FLOWER_OAUTH2_* with nori's prefix. The secret only here: an option would show in `ps`. */
const OAUTH2_ENV = {
  issuer: 'NORI_FLOWER_OAUTH2_ISSUER',
  key: 'NORI_FLOWER_OAUTH2_KEY',
  secret: 'NORI_FLOWER_OAUTH2_SECRET',
  redirectUri: 'NORI_FLOWER_OAUTH2_REDIRECT_URI',
} as const;

/** Sign-in settings from the options and the environment; none when no issuer is given. */
function oidcOptions(o: FlowerCliOptions): OidcOptions | undefined {
  const env = process.env;
  const issuer = o.oauth2Issuer ?? env[OAUTH2_ENV.issuer];
  if (!issuer) {
    if (o.auth) throw new UsageError('--auth names who may sign in with a provider: give --oauth2-issuer too');
    return undefined;
  }
  const clientId = o.oauth2Key ?? env[OAUTH2_ENV.key];
  const clientSecret = env[OAUTH2_ENV.secret];
  if (!clientId || !clientSecret || !o.auth)
    throw new UsageError(`signing in with ${issuer} needs --oauth2-key (or ${OAUTH2_ENV.key}), ${OAUTH2_ENV.secret} and --auth`);
  const host = o.address.includes(':') ? `[${o.address}]` : o.address;
  const redirectUri = o.oauth2RedirectUri ?? env[OAUTH2_ENV.redirectUri] ?? `http://${host === '0.0.0.0' ? 'localhost' : host}:${o.port}/login`;
  return { issuer, clientId, clientSecret, redirectUri, allowed: o.auth };
}

export function registerFlower(program: Command): void {
  program
    .command('flower')
    .description("monitoring server: Flower's HTTP API, Prometheus /metrics and a live web page")
    .option('-p, --port <port>', 'port (0: any free port)', int('--port'), 5555)
    .option('--address <host>', 'address to listen on', '127.0.0.1')
    .option('--basic-auth <user:password,...>', 'require HTTP basic auth with one of these pairs', list)
    .option(
      '--unauthenticated-api',
      `without --basic-auth: answer API calls that carry no credentials (or ${UNAUTHENTICATED_API_ENV}=true); by default only the page's own browser session reaches the API`,
    )
    .option('--auth <emails>', "who may sign in with --oauth2-issuer: addresses separated by |, or a pattern such as '.*@example.com' (Flower's --auth)")
    .option(
      '--oauth2-issuer <url>',
      `OpenID Connect provider to sign in with, by its issuer URL (or ${OAUTH2_ENV.issuer}); the client secret comes from ${OAUTH2_ENV.secret}`,
    )
    .option('--oauth2-key <client-id>', `the client id registered with the provider (or ${OAUTH2_ENV.key})`)
    .option(
      '--oauth2-redirect-uri <url>',
      `where the provider sends the browser back: this server's /login as browsers reach it (or ${OAUTH2_ENV.redirectUri}; default http://<address>:<port>/login)`,
    )
    .option('--allowed-hosts <names>', "Host names to answer besides the server's own (a proxy's, a DNS name), comma-separated; '*' for any", list)
    .option('--read-only', 'refuse everything that changes something (send, revoke, limits)')
    .option('--inspect-timeout <ms>', "how long /api/workers waits for workers (Flower's ms; or 2s)", duration('--inspect-timeout', 'ms'), 1000)
    .option('--max-tasks <n>', 'tasks kept in memory', int('--max-tasks', 1), 10_000)
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<FlowerCliOptions>();
      const unauthenticatedApi = o.unauthenticatedApi === true || bool(UNAUTHENTICATED_API_ENV, process.env[UNAUTHENTICATED_API_ENV] ?? 'false');
      const oidc = oidcOptions(o);
      await withApp(o, async (app) => {
        const server = await startFlower(app, {
          port: o.port,
          host: o.address,
          basicAuth: o.basicAuth,
          unauthenticatedApi,
          allowedHosts: o.allowedHosts,
          ...(oidc && { oidc }),
          readOnly: o.readOnly,
          inspectTimeout: o.inspectTimeout,
          maxTasks: o.maxTasks,
        });
        const notes = [o.readOnly && 'read-only', !o.basicAuth && (unauthenticatedApi ? 'API open to unauthenticated calls' : 'API for the page only')].filter(
          Boolean,
        );
        process.stderr.write(`nori flower on ${server.url}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      });
    });
}
