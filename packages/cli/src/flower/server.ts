/**
 * `nori flower`: Flower's HTTP API (flower/api/*.py: routes, parameters, response shapes, status
 * codes), its Prometheus metrics, and a live page, over Celery's events and remote control, so it
 * watches Python workers as well as nori ones. Durations in this API are Flower's seconds.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, ApplyOptions, EventReceiver } from '@nori/tasks';
import { Monitor } from './monitor.js';
import { PAGE } from './page.js';
import { parseTaskQuery, QueryError, queryTasks } from './task-query.js';
import { WorkerInfo } from './worker-info.js';

export interface FlowerOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** 'user:password' pairs; none = no authentication. */
  basicAuth?: readonly string[];
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = URLSearchParams;
type Handler = (match: RegExpExecArray, params: Params) => Promise<unknown> | unknown;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Python's repr of a string, as Flower's safe_result shows non-JSON results. */
const pyStr = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function safeResult(value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as Error & { excType?: string; excMessage?: readonly unknown[] };
    const args = e.excMessage ?? [e.message];
    return `${e.excType ?? e.name}(${args.map((a) => (typeof a === 'string' ? pyStr(a) : JSON.stringify(a))).join(', ')})`;
  }
  return value === undefined ? null : value;
}

/** Flower's float seconds → ms; ISO or '%Y-%m-%d %H:%M:%S.%f' dates. */
function applyOptions(o: Record<string, unknown>): ApplyOptions {
  const seconds = (name: string): number | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new HttpError(400, 'Invalid option');
    return n * 1000;
  };
  const date = (v: unknown): Date => {
    const d = new Date(typeof v === 'string' ? v.replace(' ', 'T') : NaN);
    if (Number.isNaN(d.getTime())) throw new HttpError(400, 'Invalid option');
    return d;
  };
  const out: ApplyOptions = {};
  const countdown = seconds('countdown');
  if (countdown !== undefined) out.countdown = countdown;
  if (o['eta'] !== undefined) out.eta = date(o['eta']);
  if (o['expires'] !== undefined) out.expires = Number.isFinite(Number(o['expires'])) ? seconds('expires') : date(o['expires']);
  if (typeof o['queue'] === 'string') out.queue = o['queue'];
  if (typeof o['priority'] === 'number') out.priority = o['priority'];
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_000_000) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFlower(app: App, options: FlowerOptions = {}): Promise<FlowerServer> {
  const monitor = new Monitor(options.maxTasks);
  const workers = new WorkerInfo(app, monitor, options.inspectTimeout ?? 1000);
  const receiver: EventReceiver = await app.events.receive({ '*': monitor.event });
  // Flower asks workers to send events every 5 s, so workers started without -E show up too.
  const enableEvents = (): void => void app.control.enableEvents({ reply: false }).catch(() => undefined);
  enableEvents();
  const enabler = setInterval(enableEvents, 5000);
  enabler.unref();
  const users = (options.basicAuth ?? []).map((u) => digest(u));

  const hasBackend = (): boolean => app.conf.backend !== undefined;
  const writable = (): void => {
    if (options.readOnly) throw new HttpError(403, 'Read only mode is enabled');
  };
  const taskArgs = (body: string): { args: unknown[]; kwargs: Record<string, unknown>; options: Record<string, unknown> } => {
    let o: unknown = {};
    try {
      o = body ? JSON.parse(body) : {};
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new HttpError(400, 'invalid options');
    const { args = [], kwargs = {}, ...rest } = o as Record<string, unknown>;
    if (!Array.isArray(args)) throw new HttpError(400, 'args must be an array');
    if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw new HttpError(400, 'kwargs must be an object');
    return { args, kwargs: kwargs as Record<string, unknown>, options: rest };
  };
  const resultOf = async (id: string, timeoutMs?: number): Promise<Record<string, unknown>> => {
    const r = app.result(id);
    const value = timeoutMs === undefined ? (await r.refresh(), r.result) : await r.get({ timeout: timeoutMs, propagate: false });
    const out: Record<string, unknown> = { 'task-id': id, state: r.state, result: safeResult(value) };
    if (r.state === 'FAILURE') out['traceback'] = r.traceback;
    return out;
  };
  const knownTask = async (name: string): Promise<void> => {
    if (app.tasks.has(name)) return;
    const info = await workers.get();
    if (
      !Object.values(info).some(
        (w) => Array.isArray(w['registered']) && (w['registered'] as unknown[]).some((r) => typeof r === 'string' && r.split(' ')[0] === name),
      )
    ) {
      throw new HttpError(404, `Unknown task '${name}'`);
    }
  };
  /** Flower's `response[0][workername]['ok']`, or 403 with the reason. */
  const okMessage = (replies: Record<string, unknown> | null, worker: string | null, what: string): unknown => {
    const reply = replies && (worker ? replies[worker] : Object.values(replies)[0]);
    const ok = typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>)['ok'] : undefined;
    if (ok === undefined) throw new HttpError(403, `Failed to ${what}: '${reply ? JSON.stringify(reply) : 'no reply from the worker'}'`);
    return { message: ok };
  };
  const checkWorker = (name: string | null): void => {
    if (name !== null && !monitor.state.workers.has(name)) throw new HttpError(404, `Unknown worker '${name}'`);
  };

  const get: Array<[RegExp, Handler]> = [
    [
      /^\/api\/workers$/,
      async (_m, p) => {
        const name = p.get('workername');
        if (truthy(p.get('status'))) return Object.fromEntries([...monitor.state.workers.keys()].map((h) => [h, monitor.state.alive(h)]));
        const info = await workers.get(truthy(p.get('refresh')));
        if (name) {
          if (!info[name]) throw new HttpError(404, `Unknown worker '${name}'`);
          return { [name]: info[name] };
        }
        return info;
      },
    ],
    [
      /^\/api\/tasks$/,
      (_m, p) => {
        const all = [...monitor.state.tasks.values()].reverse().map((t) => monitor.task(t));
        return Object.fromEntries(queryTasks(all, parseTaskQuery(p)).map((t) => [t.uuid, t]));
      },
    ],
    [/^\/api\/task\/types$/, () => ({ 'task-types': [...new Set([...monitor.state.tasks.values()].map((t) => t.name).filter(Boolean))] })],
    [
      /^\/api\/task\/info\/([^/]+)$/,
      (m) => {
        const t = monitor.state.task(m[1]!);
        if (!t) throw new HttpError(404, `Unknown task '${m[1]}'`);
        return { ...monitor.task(t), 'task-id': t.uuid };
      },
    ],
    [
      /^\/api\/task\/result\/([^/]+)$/,
      (m, p) => {
        if (!hasBackend()) throw new HttpError(503, 'Result backend is not configured');
        const timeout = p.get('timeout');
        return resultOf(m[1]!, timeout === null ? undefined : Number(timeout) * 1000);
      },
    ],
    [
      /^\/api\/queues\/length$/,
      async () => {
        const names = new Set([app.conf.defaultQueue, ...(await workers.queueNames())]);
        const queues = [];
        for (const name of names) queues.push({ name, messages: await app.connection.queueSize(name).catch(() => 0) });
        return { active_queues: queues };
      },
    ],
    [
      /^\/dashboard\/workers$/,
      () =>
        [...monitor.state.workers.values()].map((w) => ({
          hostname: w.hostname,
          alive: monitor.state.alive(w.hostname),
          active: w.active ?? null,
          processed: w.processed ?? null,
          loadavg: w.loadavg ?? null,
          sw_ident: w.swIdent ?? null,
        })),
    ],
    [/^\/dashboard\/config$/, () => ({ readOnly: options.readOnly === true, backend: hasBackend() })],
  ];

  const post: Array<[RegExp, Handler]> = [
    [
      /^\/api\/task\/(async-apply|send-task|apply)\/([^/]+)$/,
      async (m, _p, body?: string) => {
        writable();
        const [, kind, name] = m as unknown as [string, string, string];
        const { args, kwargs, options: o } = taskArgs(body ?? '');
        if (kind !== 'send-task' && !app.tasks.has(name)) throw new HttpError(404, `Unknown task '${name}'`);
        const result = await app.sendTask(name, args, kwargs, applyOptions(o));
        if (kind === 'apply') return hasBackend() ? resultOf(result.taskId, 3_600_000) : { 'task-id': result.taskId };
        return hasBackend() ? { 'task-id': result.taskId, state: 'PENDING' } : { 'task-id': result.taskId };
      },
    ],
    [
      /^\/api\/task\/revoke\/([^/]+)$/,
      async (m, p) => {
        writable();
        await app.control.revoke(m[1]!, { terminate: truthy(p.get('terminate')), signal: p.get('signal') ?? 'SIGTERM' });
        return { message: `Revoked '${m[1]}'` };
      },
    ],
    [
      /^\/api\/task\/rate-limit\/([^/]+)$/,
      async (m, p) => {
        writable();
        const worker = p.get('workername');
        const rate = p.get('ratelimit');
        if (rate === null) throw new HttpError(400, 'Missing argument ratelimit');
        await knownTask(m[1]!);
        checkWorker(worker);
        return okMessage(await app.control.rateLimit(m[1]!, rate, { reply: true, ...(worker && { destination: [worker] }) }), worker, 'set rate limit');
      },
    ],
    [
      /^\/api\/task\/timeout\/([^/]+)$/,
      async (m, p) => {
        writable();
        const worker = p.get('workername');
        const secs = (n: string): number | undefined => {
          const v = p.get(n);
          if (v === null || v === '') return undefined;
          if (!Number.isFinite(Number(v))) throw new HttpError(400, `${n} must be a number of seconds`);
          return Number(v) * 1000;
        };
        await knownTask(m[1]!);
        checkWorker(worker);
        return okMessage(
          await app.control.timeLimit(m[1]!, { soft: secs('soft'), hard: secs('hard') }, { reply: true, ...(worker && { destination: [worker] }) }),
          worker,
          'set timeouts',
        );
      },
    ],
  ];

  const authorized = (req: IncomingMessage): boolean => {
    if (users.length === 0) return true;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const given = digest(Buffer.from(header.slice(6), 'base64').toString('utf8'));
    return users.some((u) => timingSafeEqual(u, given));
  };

  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=UTF-8'): void => {
    const text = typeof body === 'string' && !type.startsWith('application/json') ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(text);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!authorized(req)) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="nori flower"', 'Content-Type': 'text/plain' }).end('Unauthorized');
        return;
      }
      try {
        if (req.method === 'GET' && url.pathname === '/') return send(res, 200, PAGE, 'text/html; charset=UTF-8');
        if (req.method === 'GET' && url.pathname === '/metrics') return send(res, 200, monitor.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
        if (req.method === 'GET' && url.pathname === '/dashboard/events') {
          res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
          res.write(': live\n\n');
          const off = monitor.listen((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
          req.on('close', off);
          return;
        }
        const routes = req.method === 'GET' ? get : req.method === 'POST' ? post : [];
        for (const [pattern, handler] of routes) {
          const m = pattern.exec(decodeURI(url.pathname));
          if (!m) continue;
          const body = req.method === 'POST' ? await readBody(req) : '';
          const params = new URLSearchParams(url.search);
          // Tornado's get_argument reads the query and a form body alike.
          if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
          return send(res, 200, await (handler as (m: RegExpExecArray, p: Params, b: string) => unknown)(m, params, body));
        }
        send(res, 404, { error: 'Not found' });
      } catch (error) {
        if (error instanceof HttpError) return send(res, error.status, { error: error.message });
        if (error instanceof QueryError) return send(res, 400, { error: error.message });
        send(res, 500, { error: (error as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5555, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    monitor,
    close: async () => {
      clearInterval(enabler);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await receiver.stop();
    },
  };
}

/** Flower's bool arguments: 'true', '1', 'yes'. */
function truthy(v: string | null): boolean {
  return v !== null && /^(1|true|yes|on)$/i.test(v);
}
