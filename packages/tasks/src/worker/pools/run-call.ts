/**
 * The side of a pool inside its thread or child process: runs a PoolCall (loads the task's module,
 * runs its export under a task context of this side: `currentTask()`, `retry()`, `updateState()`
 * sent to the worker, a signal the worker aborts at the soft limit) and returns its outcome. One
 * call at a time per thread or child; `post` sends to the worker, `receive` takes its answers.
 */
import { retryDecision, runInContext, type TaskContext } from '../../context.js';
import { flatten, rebuild, type FromTask, type LogLevel, type PoolCall, type PoolOutcome, type ToTask } from './pool-call.js';

let runs = 0;
let running: AbortController | undefined;
let seq = 0;
/** updateState calls waiting for the worker's answer, by seq. */
const storing = new Map<number, { resolve(): void; reject(error: Error): void }>();

export async function runCall(call: PoolCall, post: (message: FromTask) => void): Promise<PoolOutcome> {
  runs++;
  const c = call.context;
  const controller = new AbortController();
  running = controller;
  const context: TaskContext = {
    id: c.id,
    name: c.name,
    args: call.args,
    kwargs: c.kwargs,
    retries: c.retries,
    eta: undefined,
    expires: undefined,
    rootId: c.rootId,
    parentId: c.parentId,
    group: c.group,
    origin: c.origin,
    replyTo: undefined,
    hostname: c.hostname,
    deliveryInfo: c.deliveryInfo,
    embed: { callbacks: null, errbacks: null, chain: null, chord: null },
    signal: controller.signal,
    retry: (options = {}) =>
      retryDecision({ id: c.id, name: c.name, retries: c.retries }, { maxRetries: c.maxRetries, defaultRetryDelay: c.defaultRetryDelay }, options),
    updateState: (state, meta = null) =>
      new Promise<void>((resolve, reject) => {
        const n = ++seq;
        storing.set(n, { resolve, reject });
        post({ type: 'state', seq: n, state, meta });
      }),
    // Lines go to the worker, whose logger adds the task's fields.
    logger: {
      debug: (obj, msg) => post(logLine('debug', obj, msg)),
      info: (obj, msg) => post(logLine('info', obj, msg)),
      warn: (obj, msg) => post(logLine('warn', obj, msg)),
      error: (obj, msg) => post(logLine('error', obj, msg)),
    },
  };
  try {
    const mod = (await import(call.url)) as Record<string, unknown>;
    const fn = mod[call.exportName];
    if (typeof fn !== 'function') throw new TypeError(`${call.url} has no function export "${call.exportName}"`);
    const value = await runInContext({ context: () => context }, fn as (...a: never[]) => unknown, call.args);
    return { ok: true, value, runs };
  } catch (error) {
    return { ok: false, error: flatten(error), runs };
  } finally {
    running = undefined;
    // Answers after the run are not sent: nothing waits for them any more.
    storing.clear();
  }
}

/** A logged line as it crosses to the worker: an Error (as the object, or as `err`) flattened. */
function logLine(level: LogLevel, obj: object | string, msg: string | undefined): FromTask {
  if (typeof obj === 'string') return { type: 'log', level, fields: {}, msg: obj };
  const fields: Record<string, unknown> = obj instanceof Error ? { err: obj } : { ...obj };
  if (fields['err'] instanceof Error) fields['err'] = flatten(fields['err']);
  return { type: 'log', level, fields, msg };
}

/** A message from the worker for the running call. */
export function receive(message: ToTask): void {
  if (message.type === 'abort') {
    running?.abort(rebuild(message.reason));
    return;
  }
  const waiting = storing.get(message.seq);
  storing.delete(message.seq);
  if (message.error) waiting?.reject(rebuild(message.error));
  else waiting?.resolve();
}
