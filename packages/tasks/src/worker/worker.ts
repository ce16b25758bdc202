/**
 * The worker: consumes task queues on a connection of its own and runs their tasks `concurrency`
 * at a time. It is composed of the parts Celery's worker has (see ARCHITECTURE.md):
 *
 *   consumers.ts   the broker consumers (add / cancel a queue), which never settle for the worker
 *   admission/     Celery's strategy: parse, unknown task, revoked / expired, ETA, rate limit, slot
 *   tracer.ts      Celery's trace: the run, then the after-task steps in their stated order
 *   execution.ts   the handler under its time limits, on this thread or in the thread pool (pools/)
 *   settle.ts      the ack matrix and the one place messages are settled
 *   state.ts       what the worker holds (reserved, running, totals, revoked ids, slots)
 *
 * Messages it reserves stay unacked under the transport's renewed lease, ETA tasks too (held until
 * due, up to `etaHoldLimit` of them); ETAs further away than `etaHoldMax` are parked in the broker.
 */
import { Connection, Emitter, setLongTimeout, type LongTimeout, type Queue } from '@nori/core';
import type { RevokedSet } from '../control/revoked.js';
import { Admission } from './admission/admission.js';
import { EtaWait, returnParked } from './admission/eta.js';
import { Consumers } from './consumers.js';
import type { Hooks, WorkerEvents } from './events.js';
import { Execution } from './execution.js';
import type { WorkerHost } from './host.js';
import type { HeldTask } from './job.js';
import { Autoscaler } from './autoscaler.js';
import { defaultNodename, etaLimits, maxLapses, shutdownTimeout, workerLimits, type WorkerOptions, type WorkerStep } from './options.js';
import { settle } from './settle.js';
import { STOPPING, WorkerState } from './state.js';
import { Progress } from './progress.js';
import { Tracer } from './tracer.js';
import { logTaskLines } from './task-log.js';

export class Worker extends Emitter<WorkerEvents> {
  readonly hostname: string;
  /** With `autoscale`: resizes the pool as it gets busy or idle (remote control's `autoscale` changes its bounds). */
  readonly autoscaler: Autoscaler | undefined;
  readonly prefetch: number;
  #concurrency: number;
  readonly #host: WorkerHost;
  readonly #options: WorkerOptions;
  readonly #connection: Connection;
  readonly #state: WorkerState;
  readonly #execution: Execution;
  readonly #admission: Admission;
  readonly #consumers: Consumers;
  readonly #steps: WorkerStep[] = [];
  readonly #report = (error: Error): void => void this.emit('error', error);
  #stopping: Promise<void> | undefined;

  constructor(host: WorkerHost, options: WorkerOptions = {}) {
    super(host.conf.connection.logger);
    this.#host = host;
    this.#options = options;
    const { concurrency, prefetch } = workerLimits(options, host.conf);
    this.#concurrency = concurrency;
    this.prefetch = prefetch;
    this.hostname = options.hostname ?? defaultNodename();
    this.#connection = new Connection(host.conf.broker, { ...host.conf.connection, ...options.connection });
    this.#state = new WorkerState(concurrency);
    // The parts emit the worker's hooks on its own emitter (its emit is protected to everyone else).
    const hooks = this as unknown as Hooks;
    this.#execution = new Execution(this.hostname, options, this.#state, new Progress(host, hooks));
    const tracer = new Tracer(host, this.#state, this.#execution, hooks, this.hostname, this.#connection.info().transport);
    const eta = new EtaWait(this.#connection, this.#state, etaLimits(options, { concurrency, prefetch }), hooks);
    this.#admission = new Admission(host, this.#state, eta, tracer, hooks, this.hostname);
    const queues = (options.queues ?? [host.conf.defaultQueue]).map((q) => (typeof q === 'string' ? host.queue(q) : q));
    this.#consumers = new Consumers(
      this.#connection,
      queues,
      { prefetch, accept: host.conf.accept, stopTimeout: shutdownTimeout(options), maxLapses: maxLapses(options) },
      this.#admission,
      this.#report,
    );
    this.autoscaler = options.autoscale ? new Autoscaler(this, options.autoscale) : undefined;
    if (this.autoscaler) this.#steps.push(this.autoscaler);
    const { logger } = host.conf.connection;
    if (logger) logTaskLines(this, logger);
  }

  /** The worker's broker connection. */
  get connection(): Connection {
    return this.#connection;
  }

  get options(): Readonly<WorkerOptions> {
    return this.#options;
  }

  /** Add a step (before `start`). */
  use(step: WorkerStep): this {
    this.#steps.push(step);
    return this;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#state.running.size;
  }

  /** What the worker holds now (reserved, waiting for an ETA, running), for remote control's inspect. */
  get held(): ReadonlySet<HeldTask> {
    return this.#state.held;
  }

  /** Tasks started, by name (Celery's `total` in stats). */
  get total(): ReadonlyMap<string, number> {
    return this.#state.total;
  }

  /** Ids not to run (Celery's revoked set; remote control adds to it). */
  get revoked(): RevokedSet {
    return this.#state.revoked;
  }

  /** Tasks that may run at once. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Change how many tasks may run at once (Celery's pool_grow / pool_shrink, the autoscaler); never below 1. */
  resize(concurrency: number): void {
    const next = Math.max(1, Math.trunc(concurrency));
    if (next === this.#concurrency) return;
    this.#state.slots.resize(next - this.#concurrency);
    this.#concurrency = next;
    this.emit('worker-resized', { hostname: this.hostname, concurrency: next });
  }

  /** Forget the rate limiter of a task whose rateLimit changed. */
  resetRateLimit(taskName: string): void {
    this.#admission.resetRateLimit(taskName);
  }

  /** The queues it consumes. */
  get queues(): readonly Queue[] {
    return this.#consumers.queues;
  }

  async start(): Promise<void> {
    if (this.#consumers.started) return;
    if (this.#options.stateFile) await this.#state.revoked.load(this.#options.stateFile);
    await this.#execution.start(this.#concurrency);
    await this.#consumers.start();
    for (const step of this.#steps) await step.start(this.#report);
    this.emit('worker-ready', { hostname: this.hostname, queues: this.queues.map((q) => q.name) });
  }

  /** Start consuming one more queue (Celery's add_consumer), with a consumer of its own. */
  addQueue(queue: string | Queue): Promise<void> {
    return this.#consumers.add(typeof queue === 'string' ? this.#host.queue(queue) : queue);
  }

  /** Stop consuming a queue (Celery's cancel_consumer); its running tasks finish, its reserved messages go back. */
  cancelQueue(name: string): Promise<void> {
    return this.#consumers.cancel(name);
  }

  /** Ends a running task now (Celery's revoke with terminate): its signal aborts and it is stored as REVOKED. False when it is not running here. */
  terminate(id: string): boolean {
    return this.#execution.terminate(id);
  }

  /**
   * Warm shutdown: stop fetching, give reserved messages back (front of their queues), let running
   * tasks finish up to `shutdownTimeout`, give back the tasks parked in its queues (see
   * `returnParkedOnStop`), then close. A second call while the first waits is a cold
   * shutdown: running tasks are aborted and their late-acked messages given back.
   */
  stop(): Promise<void> {
    if (this.#stopping) {
      this.#coldStop();
      return this.#stopping;
    }
    this.#stopping = this.#warmStop();
    return this.#stopping;
  }

  /** `await using worker = app.worker()` stops it (warm). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #warmStop(): Promise<void> {
    this.#state.stop();
    let cold = false;
    const stopped = this.#consumers.stop();
    if (stopped) {
      let timer: LongTimeout | undefined;
      await Promise.race([stopped, new Promise<void>((resolve) => (timer = setLongTimeout(resolve, shutdownTimeout(this.#options))))]);
      timer?.clear();
      if (this.#state.running.size > 0) {
        cold = true;
        this.#coldStop();
        await stopped;
      }
    }
    if (this.#options.returnParkedOnStop ?? true) await returnParked(this.#connection, this.queues).catch(this.#report);
    for (const step of [...this.#steps].reverse()) await step.stop().catch(this.#report);
    if (this.#options.stateFile) await this.#state.revoked.save(this.#options.stateFile).catch(this.#report);
    await this.#execution.close();
    await this.#connection.close();
    this.emit('worker-shutdown', { hostname: this.hostname, cold });
  }

  #coldStop(): void {
    for (const job of this.#state.running) {
      job.abandoned = true;
      job.controller.abort(STOPPING);
      // A late-acked message goes back, as when Celery's worker dies; an early-acked one is gone.
      void settle(job.message, 'release', this.#report);
    }
    this.#state.running.clear();
    this.#state.held.clear();
    this.#consumers.abandon();
  }
}
