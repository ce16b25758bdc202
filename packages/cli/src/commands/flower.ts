/** `nori flower`: the monitoring server (Flower's API, /metrics, the live page) until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { AppSource } from '../load-app.js';
import { startFlower } from '../flower/server.js';
import { bool, duration, int, list } from '../parse.js';
import { withApp } from '../with-app.js';

interface FlowerCliOptions extends AppSource {
  port: number;
  address: string;
  basicAuth?: string[];
  unauthenticatedApi?: boolean;
  allowedHosts?: string[];
  readOnly?: boolean;
  inspectTimeout: number;
  maxTasks: number;
}

/** Flower's variable is FLOWER_UNAUTHENTICATED_API; nori's has the NORI_ prefix of its others. */
export const UNAUTHENTICATED_API_ENV = 'NORI_FLOWER_UNAUTHENTICATED_API';

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
    .option('--allowed-hosts <names>', "Host names to answer besides the server's own (a proxy's, a DNS name), comma-separated; '*' for any", list)
    .option('--read-only', 'refuse everything that changes something (send, revoke, limits)')
    .option('--inspect-timeout <ms>', "how long /api/workers waits for workers (Flower's ms; or 2s)", duration('--inspect-timeout', 'ms'), 1000)
    .option('--max-tasks <n>', 'tasks kept in memory', int('--max-tasks', 1), 10_000)
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<FlowerCliOptions>();
      const unauthenticatedApi = o.unauthenticatedApi === true || bool(UNAUTHENTICATED_API_ENV, process.env[UNAUTHENTICATED_API_ENV] ?? 'false');
      await withApp(o, async (app) => {
        const server = await startFlower(app, {
          port: o.port,
          host: o.address,
          basicAuth: o.basicAuth,
          unauthenticatedApi,
          allowedHosts: o.allowedHosts,
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
