/**
 * Every error of the task layer, one class per reason, each a NoriError with a stable `code`.
 * Where Celery (or billiard) raises an exception for the same reason, the class carries its name
 * and module (`excModule`; the name is the class name), which the result backends store as
 * exc_type / exc_module: a failure stored by a nori worker reads on the Python side as the
 * exception Celery would store.
 */
import { NoriError } from '@nori/core';

export type TasksErrorCode =
  | 'ERR_NORI_TASK_FAILED'
  | 'ERR_NORI_TASK_REVOKED'
  | 'ERR_NORI_CHORD_FAILED'
  | 'ERR_NORI_ALREADY_QUEUED'
  | 'ERR_NORI_BACKEND_NOT_INSTALLED'
  | 'ERR_NORI_UNKNOWN_BACKEND'
  | 'ERR_NORI_TASK_NOT_REGISTERED'
  | 'ERR_NORI_TASK_INVALID'
  | 'ERR_NORI_TASK_TIME_LIMIT'
  | 'ERR_NORI_TASK_SOFT_TIME_LIMIT'
  | 'ERR_NORI_TASK_MAX_RETRIES'
  | 'ERR_NORI_TASK_WORKER_LOST'
  | 'ERR_NORI_TASK_RETRY'
  | 'ERR_NORI_TASK_REJECT'
  | 'ERR_NORI_TASK_IGNORE'
  | 'ERR_NORI_TASK_OUTSIDE'
  | 'ERR_NORI_TASK_CONFIG';

export abstract class TasksError extends NoriError<TasksErrorCode> {
  /** The Python module of the exception Celery raises for the same reason (exc_module on the wire); undefined for nori's own reasons. */
  readonly excModule?: string | null;
}

/** The three fields Celery stores for a failure; any error that has them is stored with them. */
export interface CeleryException {
  /** Celery's exc_type: the exception class name, e.g. 'ZeroDivisionError'. */
  readonly excType: string;
  /** Celery 5's exc_message: the exception's args, e.g. ['division by zero']. */
  readonly excMessage: readonly unknown[];
  /** Celery's exc_module, e.g. 'builtins'; null when the writer sent none. */
  readonly excModule: string | null;
}

function describe(excType: string, args: readonly unknown[]): string {
  const text = args.length === 1 ? String(args[0]) : args.length === 0 ? '' : JSON.stringify(args);
  return text === '' ? excType : `${excType}: ${text}`;
}

/**
 * A task failed, as its result backend stores it: `AsyncResult.get()` rejects with it. Carries
 * Celery's exception fields, so a Python `ValueError('x')` arrives as excType 'ValueError',
 * excMessage ['x'], excModule 'builtins'. Thrown from a nori task, it is stored with the same
 * fields (a failure passes through nori unchanged).
 */
export class TaskError extends TasksError implements CeleryException {
  readonly code: TasksErrorCode = 'ERR_NORI_TASK_FAILED';
  readonly excType: string;
  readonly excMessage: readonly unknown[];
  override readonly excModule: string | null;
  /** The traceback the worker stored (a Python traceback or a JS stack), if any. */
  traceback: string | null = null;
  /** The id of the task that failed, when known. */
  taskId: string | null = null;

  constructor(exc: CeleryException, options?: { cause?: unknown }) {
    super(describe(exc.excType, exc.excMessage), options);
    this.excType = exc.excType;
    this.excMessage = exc.excMessage;
    this.excModule = exc.excModule;
  }
}

/** A task that was revoked (or had expired) before it ran: Celery's `celery.exceptions.TaskRevokedError`. */
export class TaskRevokedError extends TaskError {
  override readonly code: TasksErrorCode = 'ERR_NORI_TASK_REVOKED';
  constructor(reason = 'revoked', options?: { cause?: unknown }) {
    super({ excType: 'TaskRevokedError', excMessage: [reason], excModule: 'celery.exceptions' }, options);
  }
}

/** A chord's body did not run because a header task failed: Celery's `celery.exceptions.ChordError`. */
export class ChordError extends TaskError {
  override readonly code: TasksErrorCode = 'ERR_NORI_CHORD_FAILED';
  constructor(reason: string, options?: { cause?: unknown }) {
    super({ excType: 'ChordError', excMessage: [reason], excModule: 'celery.exceptions' }, options);
  }
}

/** A task with a once-lock was sent again while the same call is queued or running (celery_once's AlreadyQueued). */
export class AlreadyQueued extends TasksError {
  readonly code = 'ERR_NORI_ALREADY_QUEUED';
  constructor(
    readonly key: string,
    /** Ms until the lock expires by itself. */
    readonly countdown: number,
    /** The task id holding the lock. */
    readonly holder: string | null,
  ) {
    super(`${key} is already queued or running (task ${holder ?? 'unknown'}); the lock expires in ${countdown} ms`);
  }
}

/** The result backend for a URL scheme lives in a package that is not installed. */
export class BackendNotInstalledError extends TasksError {
  readonly code = 'ERR_NORI_BACKEND_NOT_INSTALLED';
  constructor(
    readonly scheme: string,
    readonly packageName: string,
    options?: { cause?: unknown },
  ) {
    super(`the ${scheme}:// result backend needs ${packageName}: run \`npm install ${packageName}\``, options);
  }
}

/** A result backend URL whose scheme no backend serves. */
export class UnknownBackendError extends TasksError {
  readonly code = 'ERR_NORI_UNKNOWN_BACKEND';
  constructor(
    readonly scheme: string,
    readonly known: readonly string[],
  ) {
    super(`no result backend for scheme "${scheme}://"; known: ${known.map((s) => `${s}://`).join(', ')}`);
  }
}

/** A message for a task name this worker does not know (Celery's NotRegistered). */
export class NotRegistered extends TasksError {
  readonly code = 'ERR_NORI_TASK_NOT_REGISTERED';
  override readonly excModule = 'celery.exceptions';
  constructor(readonly taskName: string) {
    super(`task "${taskName}" is not registered on this worker`);
  }
}

/** A task message that is not Celery protocol v1 or v2 (Celery's InvalidTaskError). */
export class InvalidTaskError extends TasksError {
  readonly code = 'ERR_NORI_TASK_INVALID';
  override readonly excModule = 'celery.exceptions';
}

/** The hard time limit ran out; the task was stopped (billiard's TimeLimitExceeded). */
export class TimeLimitExceeded extends TasksError {
  readonly code = 'ERR_NORI_TASK_TIME_LIMIT';
  override readonly excModule = 'billiard.exceptions';
  constructor(readonly limitMs: number) {
    super(`task exceeded its hard time limit of ${limitMs} ms`);
  }
}

/** The soft time limit ran out: the reason of the context's aborted signal (billiard's SoftTimeLimitExceeded). */
export class SoftTimeLimitExceeded extends TasksError {
  readonly code = 'ERR_NORI_TASK_SOFT_TIME_LIMIT';
  override readonly excModule = 'billiard.exceptions';
  constructor(readonly limitMs: number) {
    super(`task exceeded its soft time limit of ${limitMs} ms`);
  }
}

/** `retry()` was called with no retries left and no `exc` to raise instead. */
export class MaxRetriesExceededError extends TasksError {
  readonly code = 'ERR_NORI_TASK_MAX_RETRIES';
  override readonly excModule = 'celery.exceptions';
  constructor(
    readonly taskName: string,
    readonly taskId: string,
    readonly maxRetries: number,
  ) {
    super(`can't retry ${taskName}[${taskId}]: max retries (${maxRetries}) exceeded`);
  }
}

/**
 * The thread or child process running the task died, or the task's message came back more than
 * the worker's `maxLapses` times after its lease lapsed (the workers holding it died or were
 * stuck), so it is not run again (billiard's WorkerLostError).
 */
export class WorkerLostError extends TasksError {
  readonly code = 'ERR_NORI_TASK_WORKER_LOST';
  override readonly excModule = 'billiard.exceptions';
}

/** What a retry may change about where its message goes. */
export interface RetryOverrides {
  queue?: string;
  priority?: number;
}

/**
 * Thrown by `ctx.retry()`: the worker publishes the retry (same id, retries + 1) and stores RETRY.
 * Not a failure: let it propagate out of the handler.
 */
export class Retry extends TasksError {
  readonly code = 'ERR_NORI_TASK_RETRY';
  override readonly excModule = 'celery.exceptions';
  constructor(
    /** When the retry runs, as a Date. */
    readonly when: Date,
    /** Why the task retries (stored as the RETRY state's result). */
    readonly exc: Error | undefined,
    /** Publish overrides for the retry message. */
    readonly overrides: RetryOverrides,
  ) {
    super(`retry at ${when.toISOString()}${exc ? `: ${exc.message}` : ''}`);
  }
}

/** Throw from a handler to reject the message (dead-letter it), or to requeue it (Celery's Reject). */
export class Reject extends TasksError {
  readonly code = 'ERR_NORI_TASK_REJECT';
  override readonly excModule = 'celery.exceptions';
  constructor(
    readonly reason = 'rejected by the task',
    readonly requeue = false,
  ) {
    super(reason);
  }
}

/** Throw from a handler to end it with no state stored and the message acked (Celery's Ignore). */
export class Ignore extends TasksError {
  readonly code = 'ERR_NORI_TASK_IGNORE';
  override readonly excModule = 'celery.exceptions';
  constructor(reason = 'ignored by the task') {
    super(reason);
  }
}

/** `currentTask()` called outside a running task. */
export class OutsideTaskError extends TasksError {
  readonly code = 'ERR_NORI_TASK_OUTSIDE';
}

/** An App, task or worker option with a value that cannot work. */
export class TaskConfigError extends TasksError {
  readonly code = 'ERR_NORI_TASK_CONFIG';
}
