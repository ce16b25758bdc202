/**
 * Errors of the task layer, one class per reason, each with a stable `code`: NoriErrors (so
 * `instanceof NoriError` holds for every nori error) with codes of their own.
 */
import { NoriError } from '@nori/core';

export type TasksErrorCode =
  | 'ERR_NORI_TASK_FAILED'
  | 'ERR_NORI_TASK_REVOKED'
  | 'ERR_NORI_CHORD_FAILED'
  | 'ERR_NORI_ALREADY_QUEUED'
  | 'ERR_NORI_BACKEND_NOT_INSTALLED'
  | 'ERR_NORI_UNKNOWN_BACKEND';

export abstract class TasksError extends NoriError<TasksErrorCode> {}

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
  readonly excModule: string | null;
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
