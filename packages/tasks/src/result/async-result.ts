/**
 * A task's result handle (Celery's `AsyncResult`). What needs the backend is a method that
 * returns a promise (`get`, `ready`, `successful`, `failed`, `refresh`, `forget`); `state`,
 * `result`, `traceback` and `date_done` are what the last of those calls saw (PENDING before
 * any). A ready state never changes, so once seen it is not fetched again.
 */
import type { ResultBackend, StoredResult } from '../backends/backend.js';
import type { TaskError } from '../errors.js';
import type { TaskState } from '../states.js';
import { isReady, pendingResult } from '../protocol/task-meta.js';
import { TaskConfigError } from '../errors.js';

export interface ResultGetOptions {
  /** Give up after this many ms with core's TimeoutError (ERR_NORI_TIMEOUT); default: wait for ever. */
  timeout?: number;
  /** Abort the wait; rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Reject with the task's TaskError when it failed or was revoked (default true); false resolves with it. */
  propagate?: boolean;
}

/** What `revoke()` goes through: the App's remote control. */
export interface Revoker {
  revoke(id: string, options: { terminate?: boolean; signal?: string; reply?: boolean }): Promise<unknown>;
}

export class AsyncResult<R = unknown> {
  #seen: StoredResult;

  constructor(
    readonly id: string,
    readonly backend: ResultBackend,
    private readonly revoker?: Revoker,
  ) {
    this.#seen = pendingResult(id);
  }

  /** Celery's `task_id`. */
  get taskId(): string {
    return this.id;
  }

  get state(): TaskState {
    return this.#seen.state;
  }

  /** The return value (SUCCESS), the TaskError (FAILURE, REVOKED), or null. */
  get result(): R | TaskError | null {
    return this.#seen.result as R | TaskError | null;
  }

  /** Celery's `info`: the meta of a state the task reported (`updateState`, e.g. PROGRESS), else what `result` is. */
  get info(): unknown {
    return this.#seen.result;
  }

  get traceback(): string | null {
    return this.#seen.traceback;
  }

  get dateDone(): Date | null {
    return this.#seen.dateDone;
  }

  /** Celery's spelling of `dateDone`. */
  get date_done(): Date | null {
    return this.#seen.dateDone;
  }

  get children(): readonly unknown[] {
    return this.#seen.children;
  }

  /** Reads the current state from the backend (not again once ready). */
  async refresh(): Promise<StoredResult> {
    if (!isReady(this.#seen)) this.#seen = await this.backend.getResult(this.id);
    return this.#seen;
  }

  async ready(): Promise<boolean> {
    return isReady(await this.refresh());
  }

  async successful(): Promise<boolean> {
    return (await this.refresh()).state === 'SUCCESS';
  }

  async failed(): Promise<boolean> {
    return (await this.refresh()).state === 'FAILURE';
  }

  /** Waits for the task to be ready: its return value, or a rejection with its TaskError. */
  get(options?: ResultGetOptions & { propagate?: true }): Promise<R>;
  get(options: ResultGetOptions & { propagate: false }): Promise<R | TaskError>;
  async get(options: ResultGetOptions = {}): Promise<R | TaskError> {
    if (!isReady(this.#seen)) {
      // The caller's options as they are (waitFor reads timeout and signal): no copy a wait.
      this.#seen = await this.backend.waitFor(this.id, options);
    }
    const { state, result } = this.#seen;
    if (state !== 'SUCCESS' && options.propagate !== false) throw result as TaskError;
    return result as R | TaskError;
  }

  /**
   * The task's states as they are stored, from the current one to the ready one (its last):
   * PENDING, STARTED, the states it reports with `updateState` (PROGRESS and its meta), SUCCESS or
   * FAILURE. Each becomes this result's `state` and `info` as it is yielded. Ends after the ready
   * state (a failure is yielded, not thrown); throws like `get` on `timeout` or `signal`. A state
   * that came and went between two reads of a polling backend (MongoDB) may be missed.
   */
  async *states(options: Omit<ResultGetOptions, 'propagate'> = {}): AsyncGenerator<StoredResult, void, undefined> {
    if (isReady(this.#seen)) {
      yield this.#seen;
      return;
    }
    const seen: StoredResult[] = [];
    let wake: (() => void) | undefined;
    let end: { error?: unknown } | undefined;
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    this.backend
      .waitFor(this.id, {
        signal,
        ...(options.timeout !== undefined && { timeout: options.timeout }),
        onState: (result) => {
          seen.push(result);
          wake?.();
        },
      })
      .then(
        () => (end = {}),
        (error: unknown) => (end = { error }),
      )
      .finally(() => wake?.());
    let last: string | undefined;
    try {
      for (;;) {
        for (let result = seen.shift(); result; result = seen.shift()) {
          this.#seen = result;
          // A polling backend reads the same state again and again: each is yielded once.
          const key = sameness(result);
          if (key !== last || isReady(result)) yield result;
          last = key;
          if (isReady(result)) return;
        }
        if (end) {
          if ('error' in end) throw end.error;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stop.abort();
    }
  }

  /** Deletes the stored result (Celery's `forget`). */
  async forget(): Promise<void> {
    await this.backend.forget(this.id);
    this.#seen = pendingResult(this.id);
  }

  /** Tell every worker not to run this task (Celery's revoke); `terminate` also ends it where it runs. */
  async revoke(options: { terminate?: boolean; signal?: string } = {}): Promise<void> {
    if (!this.revoker) throw new TaskConfigError('revoke() needs a result made by an App (app.result(id), delay, applyAsync)');
    await this.revoker.revoke(this.id, { ...options, reply: false });
  }

  toString(): string {
    return this.id;
  }

  toJSON(): string {
    return this.id;
  }
}

/** What tells two reads of a state apart: its name and its result. */
function sameness(result: StoredResult): string {
  try {
    return `${result.state} ${JSON.stringify(result.result)}`;
  } catch {
    return `${result.state} ${String(result.result)}`;
  }
}
