/**
 * The worker's and the App's errors, one class per reason, each with a stable `code`. Where Celery
 * has the same condition the class carries Celery's (or billiard's) exception name and module
 * (`excType` / `excModule`, which the result backends store as exc_type / exc_module), so a
 * failure stored by a nori worker reads on the Python side as the exception Celery would store.
 */

export type TaskErrorCode =
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

export abstract class NoriTaskError extends Error {
  abstract readonly code: TaskErrorCode;
  /** The Python module of the exception Celery raises for the same reason (exc_module on the wire). */
  readonly excModule: string = 'celery.exceptions';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Celery's class names, so exc_type matches what a Python worker stores.
    this.name = new.target.name;
  }
  /** exc_type on the wire. */
  get excType(): string {
    return this.name;
  }
  /** exc_message on the wire (the Python exception's args). */
  get excMessage(): readonly unknown[] {
    return [this.message];
  }
}

/** A message for a task name this worker does not know (Celery's NotRegistered). */
export class NotRegistered extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_NOT_REGISTERED';
  constructor(readonly taskName: string) {
    super(`task "${taskName}" is not registered on this worker`);
  }
}

/** A task message that is not Celery protocol v1 or v2 (Celery's InvalidTaskError). */
export class InvalidTaskError extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_INVALID';
}

/** The hard time limit ran out; the task was stopped (billiard's TimeLimitExceeded). */
export class TimeLimitExceeded extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_TIME_LIMIT';
  override readonly excModule = 'billiard.exceptions';
  constructor(readonly limitMs: number) {
    super(`task exceeded its hard time limit of ${limitMs} ms`);
  }
}

/** The soft time limit ran out: the reason of the context's aborted signal (billiard's SoftTimeLimitExceeded). */
export class SoftTimeLimitExceeded extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_SOFT_TIME_LIMIT';
  override readonly excModule = 'billiard.exceptions';
  constructor(readonly limitMs: number) {
    super(`task exceeded its soft time limit of ${limitMs} ms`);
  }
}

/** `retry()` was called with no retries left and no `exc` to raise instead. */
export class MaxRetriesExceededError extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_MAX_RETRIES';
  constructor(
    readonly taskName: string,
    readonly taskId: string,
    readonly maxRetries: number,
  ) {
    super(`can't retry ${taskName}[${taskId}]: max retries (${maxRetries}) exceeded`);
  }
}

/** The thread running the task died (billiard's WorkerLostError). */
export class WorkerLostError extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_WORKER_LOST';
  override readonly excModule = 'billiard.exceptions';
}

/**
 * Thrown by `ctx.retry()`: the worker publishes the retry (same id, retries + 1) and stores RETRY.
 * Not a failure: let it propagate out of the handler.
 */
export class Retry extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_RETRY';
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

/** What a retry may change about where its message goes. */
export interface RetryOverrides {
  queue?: string;
  priority?: number;
}

/** Throw from a handler to reject the message (dead-letter it), or to requeue it (Celery's Reject). */
export class Reject extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_REJECT';
  constructor(
    readonly reason = 'rejected by the task',
    readonly requeue = false,
  ) {
    super(reason);
  }
}

/** Throw from a handler to end it with no state stored and the message acked (Celery's Ignore). */
export class Ignore extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_IGNORE';
  constructor(reason = 'ignored by the task') {
    super(reason);
  }
}

/** `currentTask()` called outside a running task. */
export class OutsideTaskError extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_OUTSIDE';
}

/** An App, task or worker option with a value that cannot work. */
export class TaskConfigError extends NoriTaskError {
  readonly code = 'ERR_NORI_TASK_CONFIG';
}
