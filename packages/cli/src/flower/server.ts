/**
 * `nori flower`: Flower's HTTP API (flower/api/*.py: routes, parameters, response shapes, status
 * codes), its Prometheus metrics, and a live page, over Celery's events and remote control, so it
 * watches Python workers as well as nori ones. Durations in this API are Flower's seconds.
 *
 * Safe by default: every request passes the RequestGuard (Host, origin, body type); the API answers
 * only authenticated callers (basic auth, or the session the page gives its browser) unless the
 * operator allows unauthenticated calls, as Flower 2 does with FLOWER_UNAUTHENTICATED_API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@nori/tasks';
import type { EventReceiver } from '@nori/tasks/events';
import { HttpError, ListenError, SearchQueryError } from '../errors.js';
import { taskRoutes } from './api-tasks.js';
import { workerRoutes } from './api-workers.js';
import { Auth } from './auth.js';
import { beatRoutes } from './beat-routes.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { dlqRoutes } from './dlq-routes.js';
import { RequestGuard } from './guard.js';
import { OidcSignIn, type OidcOptions } from './oidc.js';
import { signInRoute } from './sign-in.js';
import { watchRevokes } from './revoke-watch.js';
import { Monitor } from './monitor.js';
import { PAGE, PAGE_CSP, PAGE_PATH, staticFiles } from './page.js';
import type { FlowerContext, Route } from './route.js';
import { WorkerInfo } from './worker-info.js';

export interface FlowerOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** 'user:password' pairs; none = no authentication. */
  basicAuth?: readonly string[];
  /**
   * Answer API calls without authentication when no authentication is configured (Flower's
   * FLOWER_UNAUTHENTICATED_API). Default false: only the page's own session reaches the API.
   */
  unauthenticatedApi?: boolean;
  /** Host names the server answers to besides its own (a proxy's, a DNS name); '*' = any. */
  allowedHosts?: readonly string[];
  /** Sign-in with an OpenID Connect provider (Flower's --auth with an OAuth 2 provider). */
  oidc?: OidcOptions;
  /** Refuse every route that changes something (403), as Flower's read-only mode. */
  readOnly?: boolean;
  /** How long inspect calls wait for workers, ms. Default 1000. */
  inspectTimeout?: number;
  /** Tasks kept in memory. Default 10 000. */
  maxTasks?: number;
}

export interface FlowerServer {
  readonly url: string;
  readonly monitor: Monitor;
  close(): Promise<void>;
}

const MAX_BODY = 1_000_000;
const NEEDS_AUTH =
  'The API needs authentication: start nori flower with --basic-auth, or allow unauthenticated calls with ' +
  '--unauthenticated-api (or NORI_FLOWER_UNAUTHENTICATED_API=true)';
const NEEDS_SIGN_IN = 'Sign in at /login (or call with basic auth, if nori flower was given --basic-auth)';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Headers on every answer: no sniffing, no framing (clickjacking the Revoke button), no caching, no referrer. */
const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = headers['Content-Type'] === undefined;
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json; charset=UTF-8', ...headers }).end(json ? JSON.stringify(body) : (body as string));
}

async function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (error.code === 'EADDRINUSE') throw new ListenError(`${where} is already in use (EADDRINUSE): choose another --port, or stop what listens there`);
    if (error.code === 'EADDRNOTAVAIL') throw new ListenError(`${where}: no such address on this machine (EADDRNOTAVAIL): check --address`);
    if (error.code === 'EACCES') throw new ListenError(`${where}: not allowed to listen there (EACCES): use a port above 1023`);
    throw new ListenError(`cannot listen on ${where}: ${error.message}`, { cause: error });
  });
}

function decodeCaptures(match: RegExpExecArray): void {
  try {
    for (let i = 1; i < match.length; i++) if (match[i] !== undefined) match[i] = decodeURIComponent(match[i]!);
  } catch {
    throw new HttpError(400, 'malformed path');
  }
}

export async function startFlower(app: App, options: FlowerOptions = {}): Promise<FlowerServer> {
  const host = options.host ?? '127.0.0.1';
  const signIn = options.oidc && new OidcSignIn(options.oidc);
  // The provider sends the browser back to the redirect URI's host: it is one of the server's names.
  const redirect = options.oidc && new URL(options.oidc.redirectUri);
  const guard = new RequestGuard(host, [...(options.allowedHosts ?? []), ...(redirect ? [redirect.hostname] : [])]);
  const auth = new Auth({ basicAuth: options.basicAuth, signIn: signIn !== undefined, secure: redirect?.protocol === 'https:' });
  const monitor = new Monitor(options.maxTasks);
  const workers = new WorkerInfo(app, monitor, options.inspectTimeout ?? 1000);
  const ctx: FlowerContext = { app, monitor, workers, readOnly: options.readOnly === true, signIn: signIn !== undefined };
  const routes: Route[] = [...workerRoutes(ctx), ...taskRoutes(ctx), ...dashboardRoutes(ctx), ...beatRoutes(ctx), ...dlqRoutes(ctx)];
  const assets = staticFiles();

  const authorized = (req: IncomingMessage, path: string): boolean => {
    if (auth.user(req) !== undefined) return true;
    if (!auth.open) return false;
    return path === '/metrics' || options.unauthenticatedApi === true;
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, page: boolean): void => {
    if (signIn && page)
      return send(res, 302, 'Sign in at /login', {
        'Content-Type': 'text/plain; charset=UTF-8',
        Location: `/login?next=${encodeURIComponent(req.url ?? '/')}`,
      });
    // With sign-in, no basic challenge: the page's calls after its session ended would make the
    // browser ask for a password; scripts send their basic credentials without being asked.
    if (signIn) send(res, 401, { error: NEEDS_SIGN_IN });
    else if (auth.basic) send(res, 401, 'Unauthorized', { 'Content-Type': 'text/plain; charset=UTF-8', 'WWW-Authenticate': 'Basic realm="nori flower"' });
    else send(res, 401, { error: NEEDS_AUTH });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Routes match the path as sent; what they capture is decoded (as Tornado's path arguments), so
    // `celery%40host` names `celery@host` and an encoded '/' stays inside its part.
    const path = url.pathname;
    // A load balancer's probe, with whatever Host it sends; says nothing but that the server runs.
    if (req.method === 'GET' && path === '/healthcheck') return send(res, 200, 'OK', { 'Content-Type': 'text/plain; charset=UTF-8' });
    guard.host(req);
    const page = req.method === 'GET' && PAGE_PATH.test(path);
    // Another site may send the browser to a page, and the provider sends it back to /login.
    guard.origin(req, req.method !== 'GET' && req.method !== 'HEAD', page || (signIn !== undefined && path === '/login'));
    // The page's script and stylesheet: code anyone may read, as Flower's /static.
    const asset = req.method === 'GET' && path.startsWith('/static/') ? assets.get(path.slice('/static/'.length)) : undefined;
    if (asset) return send(res, 200, asset.body, { 'Content-Type': asset.type });
    if (signIn && (await signInRoute(req, res, url, signIn, auth, send))) return;
    const user = auth.user(req);
    if (page) {
      if (user === undefined && !auth.open) return refuse(req, res, true);
      const cookie = user === undefined ? auth.pageCookie() : undefined;
      return send(res, 200, PAGE, { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Security-Policy': PAGE_CSP, ...(cookie && { 'Set-Cookie': cookie }) });
    }
    if (!authorized(req, path)) return refuse(req, res, false);
    if (req.method === 'GET' && path === '/metrics') {
      return send(res, 200, await monitor.metrics.render(), { 'Content-Type': monitor.metrics.contentType });
    }
    if (req.method === 'GET' && path === '/dashboard/events') {
      res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
      res.write(': live\n\n');
      const off = monitor.listen((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
      req.on('close', off);
      return;
    }
    for (const route of routes) {
      if (route.method !== req.method) continue;
      const match = route.path.exec(path);
      if (!match) continue;
      decodeCaptures(match);
      if (route.change && ctx.readOnly) throw new HttpError(403, 'Read only mode is enabled');
      const body = req.method === 'POST' ? await readBody(req) : '';
      if (route.jsonBody) guard.jsonBody(req, body);
      const params = new URLSearchParams(url.search);
      // Tornado's get_argument reads the query and a form body alike.
      if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      return send(res, 200, await route.run({ match, params, body, user }));
    }
    send(res, 404, { error: 'Not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.end();
      if (error instanceof HttpError) return send(res, error.status, { error: error.message });
      if (error instanceof SearchQueryError) return send(res, 400, { error: error.message });
      send(res, 500, { error: (error as Error).message });
    });
  });
  await listen(server, options.port ?? 5555, host);
  let receiver: EventReceiver | undefined;
  let stopWatching: () => Promise<void>;
  try {
    receiver = await app.events.receive({ '*': monitor.event });
    stopWatching = await watchRevokes(app, monitor.revoked);
  } catch (error) {
    server.close();
    await receiver?.stop().catch(() => undefined);
    throw error;
  }
  const events = receiver;
  // Flower asks workers to send events every 5 s, so workers started without -E show up too.
  const enableEvents = (): void => void app.control.enableEvents({ reply: false }).catch(() => undefined);
  enableEvents();
  const enabler = setInterval(enableEvents, 5000);
  enabler.unref();
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    monitor,
    close: async () => {
      clearInterval(enabler);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await events.stop();
      await stopWatching();
    },
  };
}
