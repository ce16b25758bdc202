/**
 * The 'threads' pool: module tasks (see moduleTask) run in worker threads through tinypool
 * (zero dependencies, Node 20 and later). A hard time limit or a terminate aborts the run, and
 * tinypool terminates that thread and starts a replacement, so a CPU-bound loop really stops.
 * maxMemoryPerChild is tinypool's heap-based recycling; maxTasksPerChild 1 is tinypool's
 * isolated workers, and N > 1 recycles the pool's threads (each after its current task, the only
 * recycling tinypool offers) once a thread reports N tasks.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { setLongTimeout } from '@nori/core';
import Tinypool from 'tinypool';
import type { ModuleRef } from '../../module-task.js';
import { TimeLimitExceeded, WorkerLostError } from '../../errors.js';
import { entry, link, unwrap, type Pool, type PoolRun } from './pool.js';
import type { FromTask, PoolCall, PoolOutcome } from './pool-call.js';

export interface ThreadPoolOptions {
  size: number;
  maxTasksPerChild?: number;
  /** Heap bytes after which a thread is replaced (checked after each task). */
  maxMemoryPerChild?: number;
}

export class ThreadPool implements Pool {
  readonly #pool: Tinypool;
  readonly #maxTasksPerChild: number | undefined;

  constructor(options: ThreadPoolOptions) {
    this.#maxTasksPerChild = options.maxTasksPerChild;
    this.#pool = new Tinypool({
      filename: entry('thread-entry').href,
      minThreads: options.size,
      maxThreads: options.size,
      isolateWorkers: options.maxTasksPerChild === 1,
      ...(options.maxMemoryPerChild !== undefined && { maxMemoryLimitBeforeRecycle: options.maxMemoryPerChild }),
    });
  }

  async run(ref: ModuleRef, call: Omit<PoolCall, 'url' | 'exportName'>, run: PoolRun): Promise<unknown> {
    const { timeLimit, kill } = run;
    const controller = new AbortController();
    const timer = timeLimit === undefined ? undefined : setLongTimeout(() => controller.abort(new TimeLimitExceeded(timeLimit)), timeLimit);
    const onKill = (): void => controller.abort(kill.reason);
    kill.addEventListener('abort', onKill, { once: true });
    const { port1, port2 } = new MessageChannel();
    const { receive, stop } = link(run, (message) => port1.postMessage(message));
    port1.on('message', receive);
    let outcome: PoolOutcome;
    try {
      outcome = (await this.#pool.run(
        { ...call, url: ref.url, exportName: ref.exportName, port: port2 },
        { signal: controller.signal, transferList: [port2] },
      )) as PoolOutcome;
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw new WorkerLostError(`the thread running ${call.context.name}[${call.context.id}] died: ${(error as Error).message}`, { cause: error });
    } finally {
      timer?.clear();
      kill.removeEventListener('abort', onKill);
      // Lines the task logged just before returning may still wait on the port (the outcome came on another).
      for (let left = receiveMessageOnPort(port1); left; left = receiveMessageOnPort(port1)) receive(left.message as FromTask);
      stop();
      port1.close();
    }
    if (this.#maxTasksPerChild !== undefined && this.#maxTasksPerChild > 1 && outcome.runs >= this.#maxTasksPerChild) void this.#pool.recycleWorkers();
    return unwrap(outcome);
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
