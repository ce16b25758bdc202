/**
 * The 'process' pool (Celery's prefork, BullMQ's sandboxed processors): module tasks (see
 * moduleTask) run in child processes forked with node:child_process, one task per child at a
 * time. What a child does cannot reach the worker: the hard limit and terminate SIGKILL the child
 * (any code stops, async or not), and a child that exits while it runs a task (process.exit, a
 * crash, an out-of-memory abort) fails that task with WorkerLostError, saying how it exited, as
 * billiard does. A replacement is forked for the next task. maxTasksPerChild and
 * maxMemoryPerChild (resident bytes, as Celery's) retire a child after the task that reached them.
 *
 * Not tinypool's child_process runtime: its children report neither how they exited nor their
 * resident memory, and it stops replacing children for good once one dies during its start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { setLongTimeout } from '@nori/core';
import { TimeLimitExceeded, WorkerLostError } from '../../errors.js';
import type { ModuleRef } from '../../module-task.js';
import { entry, link, unwrap, type Pool, type PoolRun } from './pool.js';
import type { FromChild, PoolCall, PoolOutcome, ToChild } from './pool-call.js';

export interface ProcessPoolOptions {
  /** Children forked at the start (more are forked when more tasks run at once). */
  size: number;
  maxTasksPerChild?: number;
  /** Resident bytes after which a child is replaced (checked after each task). */
  maxMemoryPerChild?: number;
  /** Node flags of the children; default this process's. */
  execArgv?: readonly string[];
}

/** How long a retired child may take to exit by itself before it is killed, ms. */
const EXIT_GRACE_MS = 2000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

class Child {
  readonly process: ChildProcess;
  /** Resolves once the child takes calls; rejects if it exits (or cannot start) first. */
  readonly ready: Promise<void>;
  /** Resolves when the child is gone. */
  readonly exited: Promise<Exit>;
  gone = false;

  constructor(execArgv: readonly string[] | undefined) {
    this.process = fork(entry('process-entry'), [], {
      serialization: 'advanced',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      ...(execArgv && { execArgv: [...execArgv] }),
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.gone = true;
        resolve({ code, signal });
      });
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromChild): void => {
        if (message.type !== 'ready') return;
        this.process.off('message', onMessage);
        resolve();
      };
      this.process.on('message', onMessage);
      this.process.once('error', reject);
      void this.exited.then((exit) => reject(new WorkerLostError(`a process-pool child exited while starting: ${describe(exit)}`)));
    });
    // Spawn and IPC errors end in 'exit' (or were the start's); without a listener they would crash the worker.
    this.process.on('error', () => this.kill());
    this.ready.catch(() => undefined);
  }

  send(message: ToChild): void {
    if (!this.gone && this.process.connected) this.process.send(message, () => undefined);
  }

  kill(): void {
    if (!this.gone) this.process.kill('SIGKILL');
  }

  /** Asks the child to exit; kills it if it has not within EXIT_GRACE_MS. */
  async retire(): Promise<void> {
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.kill(), EXIT_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

function describe({ code, signal }: Exit): string {
  return signal ? `signal ${constants.signals[signal]} (${signal})` : `exitcode ${code}`;
}

export class ProcessPool implements Pool {
  readonly #options: ProcessPoolOptions;
  readonly #idle = new Set<Child>();
  readonly #all = new Set<Child>();
  #closed = false;

  constructor(options: ProcessPoolOptions) {
    this.#options = options;
    for (let i = 0; i < options.size; i++) this.#idle.add(this.#fork());
  }

  /** The children's pids. */
  get pids(): number[] {
    return [...this.#all].flatMap((c) => (c.process.pid === undefined ? [] : [c.process.pid]));
  }

  async run(ref: ModuleRef, call: Omit<PoolCall, 'url' | 'exportName'>, run: PoolRun): Promise<unknown> {
    const child = this.#take();
    const { outcome, rss } = await this.#runIn(child, { ...call, url: ref.url, exportName: ref.exportName }, run);
    const { maxTasksPerChild, maxMemoryPerChild } = this.#options;
    const spent = (maxTasksPerChild !== undefined && outcome.runs >= maxTasksPerChild) || (maxMemoryPerChild !== undefined && rss > maxMemoryPerChild);
    if (this.#closed || spent) {
      void child.retire();
      if (!this.#closed) this.#idle.add(this.#fork());
    } else {
      this.#idle.add(child);
    }
    return unwrap(outcome);
  }

  /** Idle children exit, busy ones (a cold stop abandoned their tasks) are killed. */
  async close(): Promise<void> {
    this.#closed = true;
    const children = [...this.#all];
    for (const child of children) {
      if (this.#idle.has(child)) void child.retire();
      else child.kill();
    }
    this.#idle.clear();
    await Promise.all(children.map((c) => c.exited));
  }

  #fork(): Child {
    const child = new Child(this.#options.execArgv);
    this.#all.add(child);
    void child.exited.then(() => {
      this.#all.delete(child);
      this.#idle.delete(child);
    });
    return child;
  }

  #take(): Child {
    for (const child of this.#idle) {
      this.#idle.delete(child);
      if (!child.gone) return child;
    }
    return this.#fork();
  }

  /** Runs one call in `child`: its outcome, or a rejection (TimeLimitExceeded, the kill's reason, WorkerLostError) after which the child is gone. */
  #runIn(child: Child, call: PoolCall, run: PoolRun): Promise<{ outcome: PoolOutcome; rss: number }> {
    const { timeLimit, kill } = run;
    const what = `${call.context.name}[${call.context.id}]`;
    return new Promise((resolve, reject) => {
      let finished = false;
      let timer: { clear(): void } | undefined;
      let linked: ReturnType<typeof link> | undefined;
      const finish = (end: () => void): void => {
        if (finished) return;
        finished = true;
        timer?.clear();
        linked?.stop();
        kill.removeEventListener('abort', onKill);
        child.process.off('message', onMessage);
        end();
      };
      const stop = (reason: unknown): void =>
        finish(() => {
          child.kill();
          reject(reason);
        });
      const onKill = (): void => stop(kill.reason);
      const onMessage = (message: FromChild): void => {
        if (message.type === 'done') finish(() => resolve(message));
        else if (message.type === 'state' || message.type === 'log') linked?.receive(message);
      };
      kill.addEventListener('abort', onKill, { once: true });
      if (kill.aborted) return onKill();
      child.process.on('message', onMessage);
      void child.exited.then((exit) => finish(() => reject(new WorkerLostError(`Worker exited prematurely: ${describe(exit)} (task ${what})`))));
      child.ready.then(
        () => {
          if (finished) return;
          if (timeLimit !== undefined) timer = setLongTimeout(() => stop(new TimeLimitExceeded(timeLimit)), timeLimit);
          child.send({ type: 'run', call });
          linked = link(run, (message) => child.send(message));
        },
        (error: unknown) =>
          finish(() =>
            reject(error instanceof WorkerLostError ? error : new WorkerLostError(`no process-pool child for ${what}: ${String(error)}`, { cause: error })),
          ),
      );
    });
  }
}
