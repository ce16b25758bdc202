/**
 * The 'threads' pool: module tasks (see moduleTask) run in worker threads through tinypool
 * (zero dependencies, Node 20 and later). A hard time limit aborts the run, and tinypool
 * terminates that thread and starts a replacement, so a CPU-bound loop really stops.
 * maxMemoryPerChild is tinypool's heap-based recycling; maxTasksPerChild 1 is tinypool's
 * isolated workers, and N > 1 recycles the pool's threads (each after its current task, the only
 * recycling tinypool offers) once a thread reports N tasks.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setLongTimeout } from '@nori/core';
import Tinypool from 'tinypool';
import type { ModuleRef } from '../../module-task.js';
import { Retry, TimeLimitExceeded, WorkerLostError } from '../../errors.js';
import type { ThreadCall, ThreadError, ThreadOutcome } from './thread-call.js';

export interface ThreadPoolOptions {
  size: number;
  maxTasksPerChild?: number;
  /** Heap bytes after which a thread is replaced (checked after each task). */
  maxMemoryPerChild?: number;
}

/**
 * The thread entry, always the built JavaScript: on Node 20 a worker thread does not get the
 * parent's module hooks (`--import tsx` in its execArgv is not applied either), so when this file
 * runs from sources (tests) the threads load dist/ — built by `tsc -b` before the tests run.
 */
const ENTRY = (
  extname(fileURLToPath(import.meta.url)) === '.ts'
    ? new URL('../../../dist/worker/pools/thread-entry.js', import.meta.url)
    : new URL('./thread-entry.js', import.meta.url)
).href;

function rebuild(flat: ThreadError): Error {
  if (flat.retryAt !== undefined) {
    const exc = flat.retryExc ? rebuild(flat.retryExc) : undefined;
    return new Retry(new Date(flat.retryAt), exc, {
      ...(flat.retryQueue !== undefined && { queue: flat.retryQueue }),
      ...(flat.retryPriority !== undefined && { priority: flat.retryPriority }),
    });
  }
  const error = new Error(flat.message);
  error.name = flat.name;
  if (flat.stack !== undefined) error.stack = flat.stack;
  if (flat.excType !== undefined) Object.assign(error, { excType: flat.excType, excMessage: [flat.message], excModule: flat.excModule ?? null });
  return error;
}

export class ThreadPool {
  readonly #pool: Tinypool;
  readonly #maxTasksPerChild: number | undefined;

  constructor(options: ThreadPoolOptions) {
    this.#maxTasksPerChild = options.maxTasksPerChild;
    this.#pool = new Tinypool({
      filename: ENTRY,
      minThreads: options.size,
      maxThreads: options.size,
      isolateWorkers: options.maxTasksPerChild === 1,
      ...(options.maxMemoryPerChild !== undefined && { maxMemoryLimitBeforeRecycle: options.maxMemoryPerChild }),
    });
  }

  /**
   * Runs one call. Rejects with TimeLimitExceeded at `timeLimit`, or with `kill`'s reason when it
   * aborts (terminate), after ending the thread either way (tinypool starts a replacement); with
   * WorkerLostError when the thread died.
   */
  async run(ref: ModuleRef, call: Omit<ThreadCall, 'url' | 'exportName'>, limits: { timeLimit: number | undefined; kill: AbortSignal }): Promise<unknown> {
    const { timeLimit, kill } = limits;
    const controller = new AbortController();
    const timer = timeLimit === undefined ? undefined : setLongTimeout(() => controller.abort(new TimeLimitExceeded(timeLimit)), timeLimit);
    const onKill = (): void => controller.abort(kill.reason);
    kill.addEventListener('abort', onKill, { once: true });
    let outcome: ThreadOutcome;
    try {
      outcome = (await this.#pool.run({ ...call, url: ref.url, exportName: ref.exportName } satisfies ThreadCall, {
        signal: controller.signal,
      })) as ThreadOutcome;
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw new WorkerLostError(`the thread running ${call.context.name}[${call.context.id}] died: ${(error as Error).message}`, { cause: error });
    } finally {
      timer?.clear();
      kill.removeEventListener('abort', onKill);
    }
    if (this.#maxTasksPerChild !== undefined && this.#maxTasksPerChild > 1 && outcome.tasksRun >= this.#maxTasksPerChild) void this.#pool.recycleWorkers();
    if (outcome.ok) return outcome.value;
    throw rebuild(outcome.error);
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
