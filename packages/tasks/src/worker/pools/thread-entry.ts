/**
 * Runs inside a pool thread (tinypool's task function): loads the task's module, runs its export
 * under a thread-side task context, and returns a ThreadOutcome. Counts the tasks this thread ran,
 * for maxTasksPerChild.
 */
import { retryDecision, runInContext, type TaskContext } from '../../context.js';
import { Retry } from '../../errors.js';
import type { ThreadCall, ThreadError, ThreadOutcome } from './thread-call.js';

let tasksRun = 0;

function flatten(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), stack: undefined };
  const e = error as Error & { excType?: unknown; excModule?: unknown };
  const flat: ThreadError = { name: e.name, message: e.message, stack: e.stack };
  // A TaskError carries Celery's fields; nori's other errors name Celery's module (their type is their name).
  if (typeof e.excType === 'string') flat.excType = e.excType;
  else if (typeof e.excModule === 'string') flat.excType = e.name;
  if (typeof e.excModule === 'string' || e.excModule === null) flat.excModule = e.excModule as string | null;
  if (error instanceof Retry) {
    flat.retryAt = error.when.getTime();
    if (error.overrides.queue !== undefined) flat.retryQueue = error.overrides.queue;
    if (error.overrides.priority !== undefined) flat.retryPriority = error.overrides.priority;
    if (error.exc) flat.retryExc = { name: error.exc.name, message: error.exc.message, stack: error.exc.stack };
  }
  return flat;
}

export default async function runThreadCall(call: ThreadCall): Promise<ThreadOutcome> {
  tasksRun++;
  const c = call.context;
  // The soft limit is not delivered into threads: this signal aborts only if the thread is told to stop.
  const controller = new AbortController();
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
  };
  try {
    const mod = (await import(call.url)) as Record<string, unknown>;
    const fn = mod[call.exportName];
    if (typeof fn !== 'function') throw new TypeError(`${call.url} has no function export "${call.exportName}"`);
    const value = await runInContext({ context: () => context }, fn as (...a: never[]) => unknown, call.args);
    return { ok: true, value, tasksRun };
  } catch (error) {
    return { ok: false, error: flatten(error), tasksRun };
  }
}
