/**
 * Flower's task API (flower/api/tasks.py, and the task routes of flower/api/control.py): same
 * routes, arguments, response shapes and status codes. Durations here are Flower's seconds.
 */
import type { ApplyOptions, TaskState } from '@nori/tasks';
import { exceptionRepr, fromSeconds } from '@nori/tasks/protocol';
import { HttpError } from '../errors.js';
import { type FlowerContext, okOf, required, type Route, secondsParam, truthy } from './route.js';
import { parseTaskQuery, queryTasks } from './task-query.js';

/** Flower's safe_result: an exception as Python's repr, any other value as it is. */
function safeResult(value: unknown): unknown {
  if (value instanceof Error) return exceptionRepr(value);
  return value === undefined ? null : value;
}

/** Flower's float seconds → ms; ISO or '%Y-%m-%d %H:%M:%S.%f' dates. */
function applyOptions(o: Record<string, unknown>): ApplyOptions {
  const seconds = (name: string): number | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new HttpError(400, 'Invalid option');
    return fromSeconds(n);
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

/** Flower's get_task_args: `{args, kwargs, ...options}` from the JSON body. */
function taskArgs(body: string): { args: unknown[]; kwargs: Record<string, unknown>; options: Record<string, unknown> } {
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
}

export function taskRoutes({ app, monitor, workers }: FlowerContext): Route[] {
  const hasBackend = (): boolean => app.conf.backend !== undefined;
  const resultOf = async (id: string, timeoutMs?: number): Promise<Record<string, unknown>> => {
    const r = app.result(id);
    const value = timeoutMs === undefined ? (await r.refresh(), r.result) : await r.get({ timeout: timeoutMs, propagate: false });
    const out: Record<string, unknown> = { 'task-id': id, state: r.state, result: safeResult(value) };
    if (r.state === 'FAILURE') out['traceback'] = r.traceback;
    return out;
  };
  /** Known if the app or any worker registered it. */
  const knownTask = async (name: string): Promise<void> => {
    if (app.tasks.has(name)) return;
    const info = await workers.get();
    const registered = (w: Record<string, unknown>): boolean =>
      Array.isArray(w['registered']) && (w['registered'] as unknown[]).some((r) => typeof r === 'string' && r.split(' ')[0] === name);
    if (!Object.values(info).some(registered)) throw new HttpError(404, `Unknown task '${name}'`);
  };
  const checkWorker = (name: string | null): void => {
    if (name !== null && !workers.knows(name)) throw new HttpError(404, `Unknown worker '${name}'`);
  };

  return [
    {
      method: 'GET',
      path: /^\/api\/tasks$/,
      run: ({ params }) => Object.fromEntries(queryTasks(monitor.tasks(), parseTaskQuery(params)).tasks.map((t) => [t.uuid, t])),
    },
    {
      method: 'GET',
      path: /^\/api\/task\/types$/,
      run: () => ({ 'task-types': [...new Set([...monitor.state.tasks.values()].map((t) => t.name).filter(Boolean))] }),
    },
    {
      method: 'GET',
      path: /^\/api\/task\/info\/([^/]+)$/,
      run: ({ match }) => {
        const t = monitor.state.task(match[1]!);
        if (!t) throw new HttpError(404, `Unknown task '${match[1]}'`);
        return { ...monitor.task(t), 'task-id': t.uuid };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/task\/result\/([^/]+)$/,
      run: ({ match, params }) => {
        if (!hasBackend()) throw new HttpError(503, 'Result backend is not configured');
        return resultOf(match[1]!, secondsParam(params, 'timeout'));
      },
    },
    {
      method: 'GET',
      path: /^\/api\/queues\/length$/,
      run: async () => {
        const names = new Set([app.conf.defaultQueue, ...(await workers.queueNames())]);
        const queues = [];
        for (const name of names) queues.push({ name, messages: await app.connection.queueSize(name).catch(() => 0) });
        return { active_queues: queues };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/task\/(async-apply|send-task|apply)\/([^/]+)$/,
      change: true,
      jsonBody: true,
      run: async ({ match, body }) => {
        const [, kind, name] = match as unknown as [string, string, string];
        const { args, kwargs, options } = taskArgs(body);
        if (kind !== 'send-task' && !app.tasks.has(name)) throw new HttpError(404, `Unknown task '${name}'`);
        const result = await app.sendTask(name, args, kwargs, applyOptions(options));
        if (kind === 'apply') return hasBackend() ? resultOf(result.taskId, 3_600_000) : { 'task-id': result.taskId };
        return hasBackend() ? { 'task-id': result.taskId, state: 'PENDING' } : { 'task-id': result.taskId };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/task\/revoke\/([^/]+)$/,
      change: true,
      run: async ({ match, params }) => {
        await app.control.revoke(match[1]!, { terminate: truthy(params.get('terminate')), signal: params.get('signal') ?? 'SIGTERM' });
        return { message: `Revoked '${match[1]}'` };
      },
    },
    {
      // Celery's AbortableAsyncResult.abort(): the ABORTED state in the result backend, which an
      // AbortableTask reads with is_aborted(). It stops nothing else (revoke?terminate=true does).
      method: 'POST',
      path: /^\/api\/task\/abort\/([^/]+)$/,
      change: true,
      run: async ({ match }) => {
        if (!hasBackend()) throw new HttpError(503, 'Result backend is not configured');
        await app.backend.storeResult(match[1]!, 'ABORTED' as TaskState, null);
        return { message: `Aborted '${match[1]}'` };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/task\/rate-limit\/([^/]+)$/,
      change: true,
      run: async ({ match, params }) => {
        const worker = params.get('workername');
        const rate = required(params, 'ratelimit');
        await knownTask(match[1]!);
        checkWorker(worker);
        const replies = await app.control.rateLimit(match[1]!, rate, { reply: true, ...(worker && { destination: [worker] }) });
        return { message: okOf(replies, worker, (reason) => `Failed to set rate limit: '${reason}'`) };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/task\/timeout\/([^/]+)$/,
      change: true,
      run: async ({ match, params }) => {
        const worker = params.get('workername');
        const limits = { soft: secondsParam(params, 'soft'), hard: secondsParam(params, 'hard') };
        await knownTask(match[1]!);
        checkWorker(worker);
        const replies = await app.control.timeLimit(match[1]!, limits, { reply: true, ...(worker && { destination: [worker] }) });
        return { message: okOf(replies, worker, (reason) => `Failed to set timeouts: '${reason}'`) };
      },
    },
  ];
}
