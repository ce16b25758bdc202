/**
 * A benchmark's Node worker in a process of its own, as Celery's worker always is: the sender
 * does not share its event loop, and the worker's memory can be read apart (`rss()`).
 * benchmarks/workers/child.ts runs it; the parent waits for a running count of finished tasks.
 * The child runs compiled JavaScript on the packages' dist, as a user's worker does: under tsx a
 * Node process holds about 37 MB more (its loader thread), which the RSS column would count.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppOptions } from '@nori/tasks';
import { treeRss } from './rss.js';

/** nori's App and worker; tasks bench.add, bench.add_quiet (ignoreResult) and bench.stamp. */
export interface NoriWorkerSpec {
  kind: 'nori';
  broker: string;
  backend: string;
  queue: string;
  concurrency: number;
  /** App options the sender uses too (the run's control and event exchanges, result expiry). */
  app: Pick<AppOptions, 'controlExchange' | 'eventExchange' | 'resultExpires'>;
  /** Task and worker events (sendEvents), without heartbeats, as the Celery worker runs (--without-heartbeat). */
  events?: boolean;
}

/** A BullMQ Worker; job names add and stamp. */
export interface BullWorkerSpec {
  kind: 'bullmq';
  redis: string;
  queue: string;
  concurrency: number;
}

/** celery-node's worker; task bench.add (it stores every result). */
export interface CeleryNodeWorkerSpec {
  kind: 'celery-node';
  broker: string;
  backend: string;
  queue: string;
}

/** A raw amqplib consumer that acks each message: what RabbitMQ allows a task. */
export interface AmqplibWorkerSpec {
  kind: 'amqplib';
  url: string;
  queue: string;
  prefetch: number;
}

export type WorkerSpec = NoriWorkerSpec | BullWorkerSpec | CeleryNodeWorkerSpec | AmqplibWorkerSpec;

/** The child's side of a kind: starts a worker that calls `finished()` once per task it is done with; resolves to its stop. */
export type StartWorker<S extends WorkerSpec> = (spec: S, finished: () => void) => Promise<() => Promise<void>>;

/** Parent to child. */
export type ToWorker = { op: 'until'; finished: number } | { op: 'stop' };
/** Child to parent. */
export type FromWorker = { op: 'ready' } | { op: 'reached'; finished: number } | { op: 'stopped' };

const entry = fileURLToPath(new URL('../dist/workers/child.js', import.meta.url));
let compiled = false;

/** Compiles benchmarks/workers (incrementally) into benchmarks/dist, once a run. */
function compile(): void {
  if (compiled) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../workers/tsconfig.json', import.meta.url))], { stdio: 'inherit' });
  compiled = true;
}

export class WorkerProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<never>;
  #stopping = false;
  readonly #waits = new Map<number, () => void>();

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => {
        if (!this.#stopping) reject(new Error(`benchmark worker ${child.pid ?? '?'} exited (${signal ?? code})`));
      }),
    );
    this.#exited.catch(() => undefined);
    child.on('message', (m: FromWorker) => {
      if (m.op !== 'reached') return;
      this.#waits.get(m.finished)?.();
      this.#waits.delete(m.finished);
    });
  }

  /** Forks the worker (stdout dropped: celery-node logs each task there) and waits until it consumes. */
  /** `cpuProfile`: write a V8 CPU profile of the worker's whole life to this file (node --cpu-prof) when it stops. */
  static async start(spec: WorkerSpec, o: { cpuProfile?: string } = {}): Promise<WorkerProcess> {
    compile();
    const execArgv = o.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', dirname(o.cpuProfile), '--cpu-prof-name', basename(o.cpuProfile)] : [];
    const child = fork(entry, [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const worker = new WorkerProcess(child);
    await Promise.race([new Promise<void>((resolve) => child.once('message', () => resolve())), worker.#exited]);
    return worker;
  }

  /** Rejects when the worker exits before `stop()`; never settles otherwise. */
  get died(): Promise<never> {
    return this.#exited;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** Resolves once the worker has finished `finished` tasks since it started. */
  until(finished: number): Promise<void> {
    const reached = new Promise<void>((resolve) => this.#waits.set(finished, resolve));
    this.#child.send({ op: 'until', finished } satisfies ToWorker);
    return Promise.race([reached, this.#exited]);
  }

  /** Resident memory of the worker process, bytes. */
  rss(): number {
    return treeRss(this.pid);
  }

  /** Stops the worker (it closes its connections) and waits for its exit; SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#stopping = true;
    const exit = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.send({ op: 'stop' } satisfies ToWorker);
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000);
    await exit;
    clearTimeout(killer);
  }
}
