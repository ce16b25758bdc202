/**
 * What a pool is to the worker's execution: it runs a module task (see moduleTask) somewhere else
 * than the worker's thread, under the hard limit, and ends it at once when told to. 'threads'
 * (thread-pool.ts) runs it in a worker thread, 'process' (process-pool.ts) in a child process.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModuleRef } from '../../module-task.js';
import { flatten, rebuild, type FromTask, type LogLevel, type PoolCall, type PoolOutcome, type ToTask } from './pool-call.js';

export interface PoolRun {
  /** The hard limit, ms: the run ends (its thread or child with it) with TimeLimitExceeded. */
  timeLimit: number | undefined;
  /** The task's signal: its aborts (soft limit, cold stop) reach the task's own signal in the pool. */
  signal: AbortSignal;
  /** Ends the run at once, its thread or child with it, rejecting with the reason (terminate). */
  kill: AbortSignal;
  /** Stores a state the task reported (updateState). */
  onState(state: string, meta: unknown): Promise<void>;
  /** Writes a line the task logged. */
  onLog(level: LogLevel, fields: Record<string, unknown>, msg: string | undefined): void;
}

export interface Pool {
  /** Runs one call: the task's value, or a rejection with its error (WorkerLostError when its thread or child died). */
  run(ref: ModuleRef, call: Omit<PoolCall, 'url' | 'exportName'>, run: PoolRun): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The entry module of a pool's threads or children, always the built JavaScript: on Node 20 a
 * worker thread does not get the parent's module hooks (`--import tsx` in its execArgv is not
 * applied either), so when the pool runs from sources (tests) they load dist/, built by `tsc -b`
 * before the tests run.
 */
export function entry(name: string): URL {
  const here = new URL(import.meta.url);
  return extname(fileURLToPath(here)) === '.ts' ? new URL(`../../../dist/worker/pools/${name}.js`, here) : new URL(`./${name}.js`, here);
}

/**
 * The worker's end of a running task's link: sends the task's signal's abort into the thread or
 * child, stores the states it reports and answers each. `receive` takes the task's messages;
 * `stop` ends the link (answers still in flight are dropped: the run is over).
 */
export function link(run: PoolRun, post: (message: ToTask) => void): { receive(message: FromTask): void; stop(): void } {
  let open = true;
  const send = (message: ToTask): void => {
    if (open) post(message);
  };
  const onAbort = (): void => send({ type: 'abort', reason: flatten(run.signal.reason) });
  if (run.signal.aborted) onAbort();
  else run.signal.addEventListener('abort', onAbort, { once: true });
  return {
    receive(message) {
      if (message.type === 'log') return run.onLog(message.level, message.fields, message.msg);
      run.onState(message.state, message.meta).then(
        () => send({ type: 'stored', seq: message.seq }),
        (error: unknown) => send({ type: 'stored', seq: message.seq, error: flatten(error) }),
      );
    },
    stop() {
      open = false;
      run.signal.removeEventListener('abort', onAbort);
    },
  };
}

/** The task's value, or its error rebuilt. */
export function unwrap(outcome: PoolOutcome): unknown {
  if (outcome.ok) return outcome.value;
  throw rebuild(outcome.error);
}
