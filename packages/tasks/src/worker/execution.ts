/**
 * Runs a task's handler (Celery's pool side): on this thread, or a module task in the worker's
 * pool (threads or child processes, pools/); under the soft limit (the context's signal aborts)
 * and the hard limit (the run rejects with TimeLimitExceeded; a pool enforces it by ending the
 * thread or child); and ended at once by `terminate` (Celery's revoke with terminate).
 */
import { setLongTimeout, type LongTimeout } from '@nori/core';
import { runInContext } from '../context.js';
import { SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded } from '../errors.js';
import { moduleOf, type ModuleRef } from '../module-task.js';
import { bindArguments } from '../params.js';
import type { Job } from './job.js';
import type { Progress } from './progress.js';
import type { WorkerOptions } from './options.js';
import type { Pool } from './pools/pool.js';
import type { PoolCall } from './pools/pool-call.js';
import type { WorkerState } from './state.js';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

export class Execution {
  readonly #hostname: string;
  readonly #options: WorkerOptions;
  readonly #state: WorkerState;
  #pool: Pool | undefined;

  readonly #progress: Progress;

  constructor(hostname: string, options: WorkerOptions, state: WorkerState, progress: Progress) {
    this.#hostname = hostname;
    this.#options = options;
    this.#state = state;
    this.#progress = progress;
  }

  /** Starts the worker's pool, when it has one. */
  async start(size: number): Promise<void> {
    const { pool, maxTasksPerChild, maxMemoryPerChild, childExecArgv } = this.#options;
    if (this.#pool || (pool !== 'threads' && pool !== 'process')) return;
    const recycle = {
      ...(maxTasksPerChild !== undefined && { maxTasksPerChild }),
      ...(maxMemoryPerChild !== undefined && { maxMemoryPerChild }),
    };
    if (pool === 'threads') {
      const { ThreadPool } = await import('./pools/thread-pool.js');
      this.#pool = new ThreadPool({ size, ...recycle });
    } else {
      const { ProcessPool } = await import('./pools/process-pool.js');
      this.#pool = new ProcessPool({ size, ...recycle, ...(childExecArgv && { execArgv: childExecArgv }) });
    }
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
    // Keyword arguments bound by name, as Python binds them: a TypeError fails the task, as Python's call would.
    const args = bindArguments(task, request.args, request.kwargs);
    const hard = request.timeLimit ?? policy.timeLimit;
    const soft = request.softTimeLimit ?? policy.softTimeLimit;
    const softTimer = soft === undefined ? undefined : setLongTimeout(() => job.controller.abort(new SoftTimeLimitExceeded(soft)), soft);
    job.progress = this.#progress;
    const ref = this.#pool && moduleOf(task.handler);
    let value: unknown;
    try {
      value = this.#pool && ref ? this.#inPool(this.#pool, ref, job, args, hard) : runInContext(job, task.handler, args);
    } catch (error) {
      softTimer?.clear();
      throw error;
    }
    // A handler that returned synchronously is done: nothing left to race against a limit or a kill.
    if (!isThenable(value)) {
      softTimer?.clear();
      return value;
    }
    // The pool enforces the hard limit by ending the thread or child.
    const running = this.#pool && ref ? (value as Promise<unknown>) : this.#underHardLimit(job, value, hard);
    return running.finally(() => softTimer?.clear());
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

  /** Runs a module task in the pool, which enforces the hard limit; terminate ends its thread or child. */
  #inPool(pool: Pool, ref: ModuleRef, job: Job, args: readonly unknown[], timeLimit: number | undefined): Promise<unknown> {
    const kill = new AbortController();
    job.kill = (reason) => kill.abort(reason);
    return pool.run(
      ref,
      { args: [...args], context: this.#poolContext(job) },
      {
        timeLimit,
        signal: job.controller.signal,
        kill: kill.signal,
        onState: (state, meta) => this.#progress.update(job.request, state, meta),
        onLog: (level, fields, msg) => job.context().logger[level](fields, msg),
      },
    );
  }

  #poolContext(job: Job): PoolCall['context'] {
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
    let timer: LongTimeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setLongTimeout(() => {
        const error = new TimeLimitExceeded(hard);
        job.controller.abort(error);
        reject(error);
      }, hard);
    });
    return Promise.race([run, this.#killed(job), limit]).finally(() => timer?.clear());
  }

  /** Rejects when `terminate` ends the job. */
  #killed(job: Job): Promise<never> {
    return new Promise<never>((_, reject) => (job.kill = reject));
  }
}
