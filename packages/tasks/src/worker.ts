/**
 * The worker: consumes task queues on a connection of its own, runs handlers `concurrency` at a
 * time, and settles each message by Celery's ack matrix. Messages it reserves (prefetched, waiting
 * for a slot, a rate-limit token or a near ETA) stay unacked under the transport's renewed lease;
 * ETAs further away are parked (the transport's delayed set, or RabbitMQ's delay levels) so they
 * are never in flight while they wait.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { hostname as osHostname } from 'node:os';
import { Connection, Emitter, Queue, type ConnectionOptions, type Consumer, type Message, type OutgoingMessage } from '@nori/core';
import { settlementFor, type Outcome } from './ack-policy.js';
import type { ResultBackend } from './backend.js';
import type { ResolvedConfig } from './config.js';
import { retryDecision, runInContext } from './context.js';
import type { WorkerEvents } from './events.js';
import { Job } from './job.js';
import { parkDelay } from './park-delay.js';
import { parseTaskMessage, type TaskRequest } from './protocol.js';
import { RateLimiter } from './rate-limit.js';
import { TaskRevokedError } from './errors.js';
import { RevokedSet } from './control/revoked.js';
import { signatureOptions } from './canvas/signature.js';
import { retryCountdown } from './retry-backoff.js';
import { Semaphore } from './semaphore.js';
import { moduleOf } from './module-task.js';
import type { ThreadCall } from './thread-call.js';
import type { ThreadPool } from './thread-pool.js';
import { Ignore, NotRegistered, Reject, Retry, SoftTimeLimitExceeded, TaskConfigError, TimeLimitExceeded, WorkerLostError } from './task-errors.js';
import type { ApplyOptions, Task, TaskHandler } from './task.js';

/** What a worker needs from its App. */
export interface WorkerHost {
  readonly conf: ResolvedConfig;
  readonly tasks: ReadonlyMap<string, Task<TaskHandler>>;
  readonly backend: ResultBackend;
  queue(name: string): Queue;
  send(
    name: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>> | undefined,
    options: ApplyOptions | undefined,
    task: Task<TaskHandler> | undefined,
  ): Promise<unknown>;
}

export interface WorkerOptions {
  /** Queue names (declared as Celery declares them) or Queue entities; default the app's default queue. */
  queues?: ReadonlyArray<string | Queue>;
  /** Tasks running at once. Default 10. */
  concurrency?: number;
  /** 'async' (default): handlers run on this thread. 'threads': moduleTask handlers run in worker threads (others still here). */
  pool?: 'async' | 'threads';
  /** Thread pool: replace threads after this many tasks (1 = a fresh thread per task). */
  maxTasksPerChild?: number;
  /** Thread pool: replace a thread whose heap passed this many bytes after a task. */
  maxMemoryPerChild?: number;
  /** Overrides the app's prefetchMultiplier. */
  prefetchMultiplier?: number;
  /** Node name; default `celery@<host>`. */
  hostname?: string;
  /** How long a warm stop waits for running tasks before going cold, ms. Default 60 000. */
  shutdownTimeout?: number;
  /** ETAs due within this many ms wait in memory (unacked); later ones are parked. Default 1000. */
  etaHoldMax?: number;
  /** Options of the worker's own broker connection (default the app's). */
  connection?: ConnectionOptions;
  /** Send task and worker events (Celery's `-E`); default the app's `sendEvents`. */
  sendEvents?: boolean;
  /** Send a worker-heartbeat every `heartbeatInterval` while sending events. Default true; false is Celery's `--without-heartbeat`. */
  heartbeat?: boolean;
  /** JSON file the revoked ids are kept in across restarts (Celery's `--statedb`). */
  stateFile?: string;
}

/** Runs beside the worker (events, remote control): started once it consumes, stopped before it closes. */
export interface WorkerStep {
  /** `report` sends an error to the worker's `error` event. */
  start(report: (error: Error) => void): Promise<void>;
  stop(): Promise<void>;
}

/** Rejects when `signal` aborts (warm stop): the caller gives the message back. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const STOPPING = new Error('worker stopping');

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

export class Worker extends Emitter<WorkerEvents> {
  readonly hostname: string;
  #concurrency: number;
  readonly prefetch: number;
  #queues: readonly Queue[];
  readonly #host: WorkerHost;
  readonly #options: WorkerOptions;
  readonly #connection: Connection;
  readonly #slots: Semaphore;
  readonly #limiters = new Map<string, RateLimiter | null>();
  readonly #running = new Set<Job>();
  /** Received and not yet done with (reserved, waiting for an ETA, running, storing its result). */
  readonly #held = new Set<Job>();
  /** Tasks started, by name (Celery's `total` in stats). */
  readonly total = new Map<string, number>();
  readonly #steps: WorkerStep[] = [];
  /** Ids not to run (Celery's revoked set; remote control adds to it). */
  readonly revoked = new RevokedSet();
  #consumer: Consumer | undefined;
  /** Consumers of queues added by `addQueue`, by queue name. */
  readonly #added = new Map<string, Consumer>();
  /** Consumers being stopped after `cancelQueue` (their running tasks finish first). */
  readonly #draining = new Set<Promise<void>>();
  #stopController = new AbortController();
  /** Resolvers of the consumer's handler promises still pending: a cold stop ends them all at once. */
  readonly #handling = new Set<() => void>();
  #stopping: Promise<void> | undefined;
  #pool: ThreadPool | undefined;

  constructor(host: WorkerHost, options: WorkerOptions = {}) {
    super(host.conf.connection.logger);
    this.#host = host;
    this.#options = options;
    this.#concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1)
      throw new TaskConfigError(`concurrency must be a whole number >= 1, got ${this.#concurrency}`);
    const multiplier = options.prefetchMultiplier ?? host.conf.prefetchMultiplier;
    this.prefetch = multiplier * this.#concurrency;
    this.hostname = options.hostname ?? `celery@${osHostname()}`;
    this.#queues = (options.queues ?? [host.conf.defaultQueue]).map((q) => (typeof q === 'string' ? host.queue(q) : q));
    this.#connection = new Connection(host.conf.broker, { ...host.conf.connection, ...options.connection });
    this.#slots = new Semaphore(this.#concurrency, this.#stopController.signal);
    // Messages waiting for a rate-limit token or a near ETA each listen on this signal: up to prefetch listeners.
    setMaxListeners(0, this.#stopController.signal);
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
    return this.#running.size;
  }

  /** @internal What the worker holds now, for remote control's inspect (read there, rather than followed through events per task). */
  get held(): ReadonlySet<Job> {
    return this.#held;
  }

  /** Tasks that may run at once. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Change how many tasks may run at once (Celery's pool_grow / pool_shrink); never below 1. */
  resize(concurrency: number): void {
    const next = Math.max(1, Math.trunc(concurrency));
    this.#slots.resize(next - this.#concurrency);
    this.#concurrency = next;
  }

  /** Forget the rate limiter of a task whose rateLimit changed. */
  resetRateLimit(taskName: string): void {
    this.#limiters.delete(taskName);
  }

  /** The queues it consumes. */
  get queues(): readonly Queue[] {
    return this.#queues;
  }

  async start(): Promise<void> {
    if (this.#consumer) return;
    if (this.#options.stateFile) await this.revoked.load(this.#options.stateFile);
    if (this.#options.pool === 'threads' && !this.#pool) {
      const { ThreadPool } = await import('./thread-pool.js');
      this.#pool = new ThreadPool({
        size: this.concurrency,
        ...(this.#options.maxTasksPerChild !== undefined && { maxTasksPerChild: this.#options.maxTasksPerChild }),
        ...(this.#options.maxMemoryPerChild !== undefined && { maxMemoryPerChild: this.#options.maxMemoryPerChild }),
      });
    }
    this.#consumer = await this.#consume(this.#queues);
    for (const step of this.#steps) await step.start((error) => this.emit('error', error));
    this.emit('worker-ready', { hostname: this.hostname, queues: this.#queues.map((q) => q.name) });
  }

  async #consume(queues: readonly Queue[]): Promise<Consumer> {
    const consumer = this.#connection.consumer(
      queues,
      {
        prefetch: this.prefetch,
        // Every reserved message reaches #receive at once: slots, rate limits and ETAs are scheduled here.
        concurrency: this.prefetch === 0 ? Number.MAX_SAFE_INTEGER : this.prefetch,
        accept: this.#host.conf.accept,
        stopTimeout: this.#options.shutdownTimeout ?? 60_000,
      },
      (message) => this.#handle(message),
    );
    consumer.on('error', (error) => this.emit('error', error));
    await consumer.start();
    return consumer;
  }

  /** Start consuming one more queue (Celery's add_consumer), with a consumer of its own. */
  async addQueue(queue: string | Queue): Promise<void> {
    const q = typeof queue === 'string' ? this.#host.queue(queue) : queue;
    if (!this.#consumer || this.#queues.some((x) => x.name === q.name)) return;
    this.#queues = [...this.#queues, q];
    this.#added.set(q.name, await this.#consume([q]));
  }

  /** Stop consuming a queue (Celery's cancel_consumer); its running tasks finish, its reserved messages go back. */
  async cancelQueue(name: string): Promise<void> {
    if (!this.#consumer || !this.#queues.some((q) => q.name === name)) return;
    this.#queues = this.#queues.filter((q) => q.name !== name);
    let old = this.#added.get(name);
    if (old) {
      this.#added.delete(name);
    } else {
      old = this.#consumer;
      const rest = this.#queues.filter((q) => !this.#added.has(q.name));
      this.#consumer = rest.length > 0 ? await this.#consume(rest) : undefined;
    }
    const draining = old.stop();
    this.#draining.add(draining);
    void draining.finally(() => this.#draining.delete(draining));
  }

  /**
   * Warm shutdown: stop fetching, give reserved messages back (front of their queues), let running
   * tasks finish up to `shutdownTimeout`, then close. A second call while the first waits is a cold
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

  async #warmStop(): Promise<void> {
    this.#stopController.abort(STOPPING);
    let cold = false;
    const consumers = [this.#consumer, ...this.#added.values()].filter((c): c is Consumer => c !== undefined);
    this.#added.clear();
    if (consumers.length > 0 || this.#draining.size > 0) {
      const timeout = this.#options.shutdownTimeout ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      const stopped = Promise.all([...consumers.map((c) => c.stop()), ...this.#draining]).then(() => undefined);
      await Promise.race([stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))]);
      clearTimeout(timer);
      if (this.#running.size > 0) {
        cold = true;
        this.#coldStop();
        await stopped;
      }
    }
    for (const step of [...this.#steps].reverse()) await step.stop().catch((error: unknown) => this.emit('error', error as Error));
    if (this.#options.stateFile) await this.revoked.save(this.#options.stateFile).catch((error: unknown) => this.emit('error', error as Error));
    await this.#pool?.close();
    this.#pool = undefined;
    await this.#connection.close();
    this.#consumer = undefined;
    this.emit('worker-shutdown', { hostname: this.hostname, cold });
  }

  #coldStop(): void {
    for (const job of this.#running) {
      job.abandoned = true;
      job.controller.abort(STOPPING);
      // A late-acked message goes back, as when Celery's worker dies; an early-acked one is gone.
      if (!job.message.acknowledged) void job.message.release().catch((e: unknown) => this.emit('error', e as Error));
    }
    this.#running.clear();
    this.#held.clear();
    for (const end of [...this.#handling]) end();
  }

  /**
   * The consumer's handler: resolves when the message is dealt with, or at once on a cold stop.
   * (Not a Promise.race with one long-lived "cold" promise: each race would leave a reaction on it,
   * a leak of one closure per message for the worker's lifetime.)
   */
  #handle(message: Message): Promise<void> {
    return new Promise<void>((resolve) => {
      const end = (): void => {
        this.#handling.delete(end);
        resolve();
      };
      this.#handling.add(end);
      this.#receive(message).then(end, (error: unknown) => {
        this.emit('error', error as Error);
        end();
      });
    });
  }

  /** Never rejects: every failure is settled and reported here. */
  async #receive(message: Message): Promise<void> {
    // Delivered between the start of a warm stop and the cancel taking effect: give it back.
    if (this.#stopController.signal.aborted) return this.#settle(message, 'release');
    let request: TaskRequest;
    try {
      request = parseTaskMessage(message.headers, message.body, message.properties);
    } catch (error) {
      await this.#settle(message, 'reject');
      this.emit('task-rejected', undefined, { requeue: false, reason: error as Error });
      return;
    }
    const task = this.#host.tasks.get(request.name);
    if (!task) {
      // Celery: reject (no requeue) and store NotRegistered as the failure.
      const error = new NotRegistered(request.name);
      await this.#settle(message, 'reject');
      await this.#store(request, 'FAILURE', error, { traceback: null });
      this.emit('task-rejected', request, { requeue: false, reason: error });
      return;
    }
    this.emit('task-received', request);
    const job = new Job(message, request, task, this.hostname);
    this.#held.add(job);
    try {
      try {
        if (this.#cancelled(job)) return await this.#revoke(job);
        if (request.eta && (await this.#waitForEta(job, request.eta.getTime() - Date.now()))) return;
        const limiter = this.#limiter(task);
        if (limiter) {
          const wait = limiter.reserve();
          if (wait > 0) await sleep(wait, this.#stopController.signal);
        }
        if (!this.#slots.tryAcquire()) await this.#slots.acquire();
      } catch (error) {
        if (error === STOPPING) return await this.#settle(message, 'release');
        this.emit('error', error as Error);
        return;
      }
      job.holding = true;
      try {
        if (this.#cancelled(job)) await this.#revoke(job);
        else await this.#execute(job);
      } finally {
        this.#release(job);
      }
    } finally {
      this.#held.delete(job);
    }
  }

  /** Gives the job's slot back (once). */
  #release(job: Job): void {
    if (job.holding) this.#slots.release();
    job.holding = false;
  }

  #limiter(task: Task<TaskHandler>): RateLimiter | null {
    let limiter = this.#limiters.get(task.name);
    if (limiter === undefined) {
      limiter = task.policy.rateLimit === undefined ? null : new RateLimiter(task.policy.rateLimit);
      this.#limiters.set(task.name, limiter);
    }
    return limiter;
  }

  #expired(job: Job): boolean {
    return job.request.expires !== undefined && job.request.expires.getTime() <= Date.now();
  }

  /** Expired, or revoked by id (Celery's revoked set): not to run. */
  #cancelled(job: Job): boolean {
    return this.#expired(job) || this.revoked.has(job.request.id);
  }

  /** Stored as REVOKED and acked: expired, revoked, or (with `terminated`) ended while running. */
  async #revoke(job: Job, terminated = false): Promise<void> {
    const { request, message } = job;
    const expired = !terminated && this.#expired(job);
    await this.#store(request, 'REVOKED', new TaskRevokedError(terminated ? 'terminated' : expired ? 'expired' : 'revoked'), { traceback: null });
    await this.#settle(message, 'ack');
    this.emit('task-revoked', request, { expired, terminated });
  }

  /** Ends a running task now (Celery's revoke with terminate): its signal aborts and it is stored as REVOKED. False when it is not running here. */
  terminate(id: string): boolean {
    const job = [...this.#running].find((j) => j.request.id === id);
    if (!job?.kill) return false;
    const reason = new TaskRevokedError('terminated');
    job.controller.abort(reason);
    job.kill(reason);
    return true;
  }

  /** True when the message was parked (it is someone else's now). */
  async #waitForEta(job: Job, waitMs: number): Promise<boolean> {
    if (waitMs <= 0) return false;
    const started = Date.now();
    if (waitMs <= (this.#options.etaHoldMax ?? 1000)) {
      await sleep(waitMs, this.#stopController.signal);
      return false;
    }
    try {
      await this.#park(job.message, waitMs);
      this.emit('task-parked', job.request, { eta: new Date(started + waitMs) });
      return true;
    } catch (error) {
      // Not parked (the broker refused the delayed publish): hold it here instead, unacked.
      this.emit('error', error as Error);
      await sleep(Math.max(0, waitMs - (Date.now() - started)), this.#stopController.signal);
      return false;
    }
  }

  /** Republish the message as received (same bytes, headers, id) to wait out its ETA, then ack it. */
  async #park(message: Message, waitMs: number): Promise<void> {
    const transport = await this.#connection.transport();
    const outgoing: OutgoingMessage = {
      body: message.rawBody,
      contentType: message.contentType ?? 'application/data',
      contentEncoding: message.contentEncoding ?? 'binary',
      headers: message.headers,
      properties: message.properties,
    };
    const delay = parkDelay(waitMs, transport.capabilities.nativeDelay);
    await transport.publish(outgoing, { exchange: '', routingKey: message.queue, mandatory: false, delay });
    await message.ack();
  }

  /** The slot goes back once the handler is done: storing the result and acking need none. */
  async #execute(job: Job): Promise<void> {
    const { message, request, policy } = job;
    if (!policy.acksLate) await this.#settle(message, 'ack');
    if (policy.trackStarted) await this.#store(request, 'STARTED', { pid: process.pid, hostname: this.hostname }, { traceback: null });
    this.#running.add(job);
    job.startedAt = Date.now();
    this.total.set(request.name, (this.total.get(request.name) ?? 0) + 1);
    this.emit('task-started', request);
    const started = performance.now();
    let outcome: Outcome;
    let value: unknown;
    try {
      value = this.#run(job);
      // A handler that returned synchronously is done: no await, no extra turn of the microtask queue.
      if (isThenable(value)) value = await value;
      outcome = 'success';
    } catch (error) {
      value = this.#autoretry(job, error);
      outcome = this.#classify(value);
    }
    this.#release(job);
    if (job.abandoned) return;
    this.#running.delete(job);
    if (job.abortReason instanceof TaskRevokedError) return this.#revoke(job, true);
    await this.#finish(job, outcome, value, performance.now() - started);
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
      hostname: this.hostname,
      deliveryInfo: job.deliveryDetails(),
      maxRetries: policy.maxRetries,
      defaultRetryDelay: policy.defaultRetryDelay,
    };
  }

  /**
   * Runs the handler: its value when it returned synchronously (a trivial task then costs no
   * promise here), else a promise under the time limits that rejects with TimeLimitExceeded at the
   * hard one, or when `terminate` ends it.
   */
  #run(job: Job): unknown {
    const { request, policy, task } = job;
    const hard = request.timeLimit ?? policy.timeLimit;
    const soft = request.softTimeLimit ?? policy.softTimeLimit;
    const softTimer = soft === undefined ? undefined : setTimeout(() => job.controller.abort(new SoftTimeLimitExceeded(soft)), soft);
    const ref = this.#pool && moduleOf(task.handler);
    let value: unknown;
    try {
      value =
        this.#pool && ref
          ? Promise.race([this.#pool.run(ref, { args: request.args, context: this.#threadContext(job) }, hard), this.#killed(job)])
          : runInContext(job, task.handler, request.args);
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

  /** autoretryFor: a matching failure becomes a retry (or the failure itself when none are left). */
  #autoretry(job: Job, error: unknown): unknown {
    const { autoretryFor } = job.task.options;
    if (!autoretryFor || error instanceof Retry || error instanceof Reject || error instanceof Ignore || error instanceof TimeLimitExceeded) return error;
    const matches = typeof autoretryFor === 'function' ? autoretryFor(error) : autoretryFor.some((type) => error instanceof type);
    if (!matches) return error;
    const countdown = retryCountdown(job.task.options, job.request.retries);
    try {
      return retryDecision(job.request, job.policy, { exc: error as Error, ...(countdown !== undefined && { countdown }) });
    } catch (decided) {
      return decided;
    }
  }

  #classify(error: unknown): Outcome {
    if (error instanceof Retry) return 'retry';
    if (error instanceof Reject) return error.requeue ? 'reject-requeue' : 'reject';
    if (error instanceof Ignore) return 'ignore';
    if (error instanceof TimeLimitExceeded) return 'time-limit';
    if (error instanceof WorkerLostError) return 'worker-lost';
    return 'failure';
  }

  async #finish(job: Job, outcome: Outcome, value: unknown, runtime: number): Promise<void> {
    const { request, message, policy } = job;
    const storeResults = !(request.ignoreResult || policy.ignoreResult);
    const storeErrors = storeResults || policy.storeErrorsEvenIfIgnored;
    let settlement = settlementFor(outcome, policy);
    switch (outcome) {
      case 'success':
        if (storeResults) await this.#store(request, 'SUCCESS', value, { traceback: null });
        if (request.embed.callbacks || request.embed.chain) await this.#sendFollowUps(request, value);
        this.emit('task-succeeded', request, { result: value, runtime });
        break;
      case 'retry': {
        const retry = value as Retry;
        try {
          await this.#publishRetry(job, retry);
          if (storeErrors) await this.#store(request, 'RETRY', retry.exc ?? retry, { traceback: retry.exc?.stack ?? null });
          this.emit('task-retried', request, { reason: retry.exc, eta: retry.when });
        } catch (error) {
          // Celery: a retry that cannot be published is a Reject(requeue=False).
          settlement = 'reject';
          this.emit('error', error as Error);
          if (storeErrors) await this.#store(request, 'FAILURE', error, { traceback: (error as Error).stack ?? null });
          this.emit('task-failed', request, { error, runtime });
        }
        break;
      }
      case 'reject':
      case 'reject-requeue':
        this.emit('task-rejected', request, { requeue: outcome === 'reject-requeue', reason: value as Error });
        break;
      case 'ignore':
        break;
      default:
        // failure, time-limit, worker-lost: a requeued task will run again, so no FAILURE is stored for it.
        if (storeErrors && (settlement !== 'requeue' || !policy.acksLate)) {
          await this.#store(request, 'FAILURE', value, { traceback: value instanceof Error ? (value.stack ?? null) : null });
          await this.#sendErrbacks(request);
        }
        this.emit('task-failed', request, { error: value, runtime });
    }
    // Done with, as far as inspect is concerned, once its outcome is out (the ack may take a while).
    this.#held.delete(job);
    if (policy.acksLate) await this.#settle(message, settlement);
  }

  async #publishRetry(job: Job, retry: Retry): Promise<void> {
    const { request, message } = job;
    await this.#host.send(
      request.name,
      request.args,
      request.kwargs,
      {
        taskId: request.id,
        ...(request.replyTo !== undefined && { replyTo: request.replyTo }),
        retries: request.retries + 1,
        eta: retry.when,
        ...(request.expires && { expires: request.expires }),
        queue: retry.overrides.queue ?? message.queue,
        ...((retry.overrides.priority ?? message.properties.priority) !== undefined && { priority: retry.overrides.priority ?? message.properties.priority }),
        ...(request.timeLimit !== undefined && { timeLimit: request.timeLimit }),
        ...(request.softTimeLimit !== undefined && { softTimeLimit: request.softTimeLimit }),
        rootId: request.rootId,
        ...(request.parentId !== null && { parentId: request.parentId }),
        ...(request.group !== null && { group: request.group }),
        ...(request.groupIndex !== null && { groupIndex: request.groupIndex }),
        ...(request.embed.callbacks && { link: request.embed.callbacks }),
        ...(request.embed.errbacks && { linkError: request.embed.errbacks }),
        ...(request.embed.chain && { chain: request.embed.chain }),
        ignoreResult: request.ignoreResult,
        argsrepr: request.argsrepr,
        kwargsrepr: request.kwargsrepr,
      },
      job.task,
    );
  }

  /** link callbacks and the next step of a chain get the result prepended (unless immutable). */
  async #sendFollowUps(request: TaskRequest, result: unknown): Promise<void> {
    const chain = request.embed.chain ? [...request.embed.chain] : [];
    const next = chain.pop();
    const sends = [...(request.embed.callbacks ?? []), ...(next ? [next] : [])].map((sig) =>
      this.#host.send(
        sig.task,
        sig.immutable ? (sig.args ?? []) : [result, ...(sig.args ?? [])],
        sig.kwargs,
        {
          ...signatureOptions(sig),
          parentId: request.id,
          rootId: request.rootId,
          ...(sig === next && chain.length > 0 && { chain }),
        },
        this.#host.tasks.get(sig.task),
      ),
    );
    await this.#settleAll(sends);
  }

  /** link_error callbacks get the failed task's id prepended (Celery's old-style errbacks). */
  async #sendErrbacks(request: TaskRequest): Promise<void> {
    if (!request.embed.errbacks) return;
    const sends = (request.embed.errbacks ?? []).map((sig) =>
      this.#host.send(
        sig.task,
        sig.immutable ? (sig.args ?? []) : [request.id, ...(sig.args ?? [])],
        sig.kwargs,
        { ...signatureOptions(sig), parentId: request.id, rootId: request.rootId },
        this.#host.tasks.get(sig.task),
      ),
    );
    await this.#settleAll(sends);
  }

  async #settleAll(promises: Promise<unknown>[]): Promise<void> {
    for (const r of await Promise.allSettled(promises)) if (r.status === 'rejected') this.emit('error', r.reason as Error);
  }

  async #store(
    request: TaskRequest,
    state: 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | 'STARTED',
    result: unknown,
    options: { traceback: string | null },
  ): Promise<void> {
    try {
      await this.#host.backend.storeResult(request.id, state, result, {
        traceback: options.traceback,
        request: {
          taskName: request.name,
          ...(request.replyTo !== undefined && { replyTo: request.replyTo }),
          ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
        },
      });
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  async #settle(message: Message, how: 'ack' | 'reject' | 'requeue' | 'release'): Promise<void> {
    if (message.acknowledged) return;
    try {
      if (how === 'ack') await message.ack();
      else if (how === 'reject') await message.reject();
      else if (how === 'requeue') await message.requeue();
      else await message.release();
    } catch (error) {
      this.emit('error', error as Error);
    }
  }
}
