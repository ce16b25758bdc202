/**
 * What crosses into a pool's thread or child process for one task run, and back: the call going
 * in, the messages while it runs, the outcome coming back. Errors are flattened to plain fields
 * (structured clone keeps neither classes nor extra fields) and rebuilt on the other side; the
 * errors that steer the worker (Retry, Reject, Ignore) come back as themselves.
 */
import type { DeliveryDetails } from '../../context.js';
import { Ignore, Reject, Retry, SoftTimeLimitExceeded } from '../../errors.js';

export interface PoolCall {
  url: string;
  exportName: string;
  args: unknown[];
  context: {
    id: string;
    name: string;
    kwargs: Record<string, unknown>;
    retries: number;
    rootId: string;
    parentId: string | null;
    group: string | null;
    origin: string | null;
    hostname: string;
    deliveryInfo: DeliveryDetails;
    maxRetries: number | null;
    defaultRetryDelay: number;
  };
}

export interface FlatError {
  name: string;
  message: string;
  stack: string | undefined;
  excType?: string;
  excModule?: string | null;
  /** Reject's requeue. */
  requeue?: boolean;
  /** SoftTimeLimitExceeded's limit, ms. */
  limitMs?: number;
  /** Set when the task called retry(): epoch ms of the retry. */
  retryAt?: number;
  retryQueue?: string;
  retryPriority?: number;
  retryExc?: FlatError;
}

/** `runs`: the calls the thread or child has run, this one included (for maxTasksPerChild). */
export type PoolOutcome = { ok: true; value: unknown; runs: number } | { ok: false; error: FlatError; runs: number };

/** To the running task: its signal aborts (soft limit, cold stop); a state it reported was stored (or not: `error`). */
export type ToTask = { type: 'abort'; reason: FlatError } | { type: 'stored'; seq: number; error?: FlatError };

/** From the running task: a state it reported (updateState), answered by `stored` with the same seq. */
export type FromTask =
  | { type: 'state'; seq: number; state: string; meta: unknown }
  /** A line the task logged (`currentTask().logger`), written by the worker's logger. */
  | { type: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string | undefined };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function flatten(error: unknown): FlatError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), stack: undefined };
  const e = error as Error & { excType?: unknown; excModule?: unknown };
  const flat: FlatError = { name: e.name, message: e.message, stack: e.stack };
  // A TaskError carries Celery's fields; nori's other errors name Celery's module (their type is their name).
  if (typeof e.excType === 'string') flat.excType = e.excType;
  else if (typeof e.excModule === 'string') flat.excType = e.name;
  if (typeof e.excModule === 'string' || e.excModule === null) flat.excModule = e.excModule as string | null;
  if (error instanceof Reject) flat.requeue = error.requeue;
  if (error instanceof SoftTimeLimitExceeded) flat.limitMs = error.limitMs;
  if (error instanceof Retry) {
    flat.retryAt = error.when.getTime();
    if (error.overrides.queue !== undefined) flat.retryQueue = error.overrides.queue;
    if (error.overrides.priority !== undefined) flat.retryPriority = error.overrides.priority;
    if (error.exc) flat.retryExc = flatten(error.exc);
  }
  return flat;
}

export function rebuild(flat: FlatError): Error {
  let error: Error;
  if (flat.retryAt !== undefined) {
    error = new Retry(new Date(flat.retryAt), flat.retryExc && rebuild(flat.retryExc), {
      ...(flat.retryQueue !== undefined && { queue: flat.retryQueue }),
      ...(flat.retryPriority !== undefined && { priority: flat.retryPriority }),
    });
  } else if (flat.requeue !== undefined) {
    error = new Reject(flat.message, flat.requeue);
  } else if (flat.limitMs !== undefined) {
    error = new SoftTimeLimitExceeded(flat.limitMs);
  } else if (flat.name === 'Ignore' && flat.excModule === 'celery.exceptions') {
    error = new Ignore(flat.message);
  } else {
    error = new Error(flat.message);
    error.name = flat.name;
    if (flat.excType !== undefined) Object.assign(error, { excType: flat.excType, excMessage: [flat.message], excModule: flat.excModule ?? null });
  }
  if (flat.stack !== undefined) error.stack = flat.stack;
  return error;
}

/** From the worker to a process-pool child. */
export type ToChild = { type: 'run'; call: PoolCall } | { type: 'exit' } | ToTask;

/** From a process-pool child to the worker: ready for calls; a call's outcome and the child's resident memory after it (bytes). */
export type FromChild = { type: 'ready' } | { type: 'done'; outcome: PoolOutcome; rss: number } | FromTask;
