/**
 * Runs a task's handler (Celery's pool side): on this thread, or a module task in the thread pool;
 * under the soft limit (the context's signal aborts) and the hard limit (the run rejects with
 * TimeLimitExceeded; the thread pool enforces it in the thread itself); and ended at once by
 * `terminate` (Celery's revoke with terminate).
 */
import { runInContext } from '../context.js';
import { SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded } from '../errors.js';
import { moduleOf, type ModuleRef } from '../module-task.js';
import type { Job } from './job.js';
import type { WorkerOptions } from './options.js';
import type { ThreadCall } from './pools/thread-call.js';
import type { ThreadPool } from './pools/thread-pool.js';
import type { WorkerState } from './state.js';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

export class Execution {
  readonly #hostname: string;
  readonly #options: WorkerOptions;
  readonly #state: WorkerState;
  #pool: ThreadPool | undefined;

  constructor(hostname: string, options: WorkerOptions, state: WorkerState) {
    this.#hostname = hostname;
    this.#options = options;
    this.#state = state;
  }

  /** Starts the thread pool, when the worker has one. */
  async start(size: number): Promise<void> {
    if (this.#options.pool !== 'threads' || this.#pool) return;
    const { ThreadPool } = await import('./pools/thread-pool.js');
    this.#pool = new ThreadPool({
      size,
      ...(this.#options.maxTasksPerChild !== undefined && { maxTasksPerChild: this.#options.maxTasksPerChild }),
      ...(this.#options.maxMemoryPerChild !== undefined && { maxMemoryPerChild: this.#options.maxMemoryPerChild }),
    });
  }

  async close(): Promise<void> {
    await this.#pool?.close();
    this.#pool = undefined;
  }

  /**
   * Runs the handler: its value when it returned synchronously (a trivial task then costs no
   * promise here), else a promise under the time limits that rejects with TimeLimitExceeded at the
   * hard one, or when `terminate` ends it.
   */
  run(job: Job): unknown {
    const { request, policy, task } = job;
    const hard = request.timeLimit ?? policy.timeLimit;
    const soft = request.softTimeLimit ?? policy.softTimeLimit;
    const softTimer = soft === undefined ? undefined : setTimeout(() => job.controller.abort(new SoftTimeLimitExceeded(soft)), soft);
    const ref = this.#pool && moduleOf(task.handler);
    let value: unknown;
    try {
      value = this.#pool && ref ? this.#inPool(this.#pool, ref, job, hard) : runInContext(job, task.handler, request.args);
    } catch (error) {
      clearTimeout(softTimer);
      throw error;
    }
    // A handler that returned synchronously is done: nothing left to race against a limit or a kill.
    if (!isThenable(value)) {
      clearTimeout(softTimer);
      return value;
    }
    // The pool enforces the hard limit in the thread itself.
    const running = this.#pool && ref ? (value as Promise<unknown>) : this.#underHardLimit(job, value, hard);
    return running.finally(() => clearTimeout(softTimer));
  }

  /** Ends a running task now: its signal aborts and its run rejects. False when it is not running here. */
  terminate(id: string): boolean {
    const job = [...this.#state.running].find((j) => j.request.id === id);
    if (!job?.kill) return false;
    const reason = new TaskRevokedError('terminated');
    job.controller.abort(reason);
    job.kill(reason);
    return true;
  }

  /** Runs a module task in the pool, which enforces the hard limit; terminate ends its thread. */
  #inPool(pool: ThreadPool, ref: ModuleRef, job: Job, timeLimit: number | undefined): Promise<unknown> {
    const kill = new AbortController();
    job.kill = (reason) => kill.abort(reason);
    return pool.run(ref, { args: job.request.args, context: this.#threadContext(job) }, { timeLimit, kill: kill.signal });
  }

  #threadContext(job: Job): ThreadCall['context'] {
    const { request, policy } = job;
    return {
      id: request.id,
      name: request.name,
      kwargs: request.kwargs,
      retries: request.retries,
      rootId: request.rootId,
      parentId: request.parentId,
      group: request.group,
      origin: request.origin,
      hostname: this.#hostname,
      deliveryInfo: job.deliveryDetails(),
      maxRetries: policy.maxRetries,
      defaultRetryDelay: policy.defaultRetryDelay,
    };
  }

  #underHardLimit(job: Job, value: PromiseLike<unknown>, hard: number | undefined): Promise<unknown> {
    const run = Promise.resolve(value);
    if (hard === undefined) return Promise.race([run, this.#killed(job)]);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeLimitExceeded(hard);
        job.controller.abort(error);
        reject(error);
      }, hard);
    });
    return Promise.race([run, this.#killed(job), limit]).finally(() => clearTimeout(timer));
  }

  /** Rejects when `terminate` ends the job. */
  #killed(job: Job): Promise<never> {
    return new Promise<never>((_, reject) => (job.kill = reject));
  }
}
