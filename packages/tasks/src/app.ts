/**
 * The App: Celery's configuration, the task registry, and sending (routing, protocol v2, the
 * producer). It is where the task layer is put together: workers are made here with their
 * after-task steps (chord counting, once-locks) and their events and remote control; each
 * subsystem gets the narrow view of the App it needs (its *Host interface), never the App.
 */
import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { Connection, ConnectionError, Emitter, Exchange, Queue, TimeoutError, type Producer, type PublishOptions } from '@nori/core';
import type { AppEvents } from './app-events.js';
import type { BackendHost, ResultBackend } from './backends/backend.js';
import { createBackend } from './backends/create-backend.js';
import { DisabledBackend } from './backends/disabled-backend.js';
import { Beat, type BeatOptions } from './beat/beat.js';
import { Chords } from './canvas/chords.js';
import { withReplyTo } from './canvas/signature.js';
import { resolveConfig, resolvePolicy, type AppOptions, type ResolvedConfig } from './config.js';
import { Control } from './control/control.js';
import { Mailbox } from './control/mailbox.js';
import { remoteControlNode } from './control/remote-control.js';
import { TaskConfigError } from './errors.js';
import { EventsApi } from './events/events-api.js';
import { OnceLocks } from './once/once.js';
import { checkParams } from './params.js';
import { taskBody, taskHeaders, type Signature, type TaskCall } from './protocol/message.js';
import { AsyncResult } from './result/async-result.js';
import { compileRoutes, type Route } from './routes.js';
import { Task, type ApplyOptions, type TaskHandler, type TaskOptions, type TaskResult, type TaskSender } from './task.js';
import { taskSendChannel } from './events/tracing.js';
import type { WorkerHost } from './worker/host.js';
import type { WorkerOptions } from './worker/options.js';
import { Worker } from './worker/worker.js';

/**
 * Tasks that live elsewhere (e.g. in Python), typed for `sendTask` by declaration merging:
 * `declare module '@nori/tasks' { interface TaskRegistry { 'tasks.mul': (x: number, y: number) => number } }`.
 * An entry with a `kwargs` member types the keyword arguments too:
 * `'tasks.fetch': { (url: string): string; kwargs: { timeout?: number } }` (as `nori types` writes them).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by users through declaration merging
export interface TaskRegistry {}

type Registered<N> = N extends keyof TaskRegistry ? (TaskRegistry[N] extends TaskHandler ? TaskRegistry[N] : never) : never;
export type SendArgs<N extends string> = N extends keyof TaskRegistry ? Parameters<Registered<N>> : readonly unknown[];
export type SendResult<N extends string> = N extends keyof TaskRegistry ? TaskResult<Registered<N>> : unknown;
export type SendKwargs<N extends string> = N extends keyof TaskRegistry
  ? TaskRegistry[N] extends { kwargs: infer K }
    ? K
    : Readonly<Record<string, unknown>>
  : Readonly<Record<string, unknown>>;

/** Link callbacks as a list, each with the caller's reply queue (a worker sends them later; rpc:// results go to the caller). */
const linked = (s: Signature | readonly Signature[] | undefined, replyTo: string): Signature[] | null =>
  s === undefined ? null : (Array.isArray(s) ? (s as readonly Signature[]) : [s as Signature]).map((sig) => withReplyTo(sig, replyTo));

/** The routing fields that are set, of call options or a task's options. */
const pickRoute = (o: Pick<ApplyOptions, 'queue' | 'exchange' | 'routingKey'>): Route => ({
  ...(o.queue !== undefined && { queue: o.queue }),
  ...(o.exchange !== undefined && { exchange: o.exchange }),
  ...(o.routingKey !== undefined && { routingKey: o.routingKey }),
});

const NO_ROUTE: Route = Object.freeze({});

export class App extends Emitter<AppEvents> implements TaskSender {
  readonly conf: ResolvedConfig;
  /** The broker connection used for sending (workers open their own). */
  readonly connection: Connection;
  /** This client's reply queue name (reply_to), Celery's thread oid. */
  readonly oid = randomUUID();
  /** Node name: `origin` of sent tasks, default `gen<pid>@<host>`. */
  readonly hostname: string;
  /** Events: receivers, dispatcher, state (Celery's `app.events`). */
  readonly events: EventsApi;
  /** Remote control of workers (Celery's `app.control`). */
  readonly control: Control;
  readonly #mailbox: Mailbox;
  readonly #remoteControl: boolean;
  /** How chord bodies get sent (Redis counter or chord_unlock). */
  readonly #chords: Chords;
  /** Once-locks of tasks with `once`. */
  readonly #onceLocks: OnceLocks;
  readonly #workerHost: WorkerHost;
  readonly #tasks = new Map<string, Task<TaskHandler>>();
  readonly #queues = new Map<string, Queue>();
  readonly #route: ReturnType<typeof compileRoutes>;
  readonly #producer: Producer;
  #backend: ResultBackend | undefined;

  constructor(options: AppOptions = {}) {
    const conf = resolveConfig(options);
    super(conf.connection.logger);
    this.conf = conf;
    this.hostname = options.hostname ?? `gen${process.pid}@${osHostname()}`;
    this.connection = new Connection(conf.broker, conf.connection);
    // Task messages are traced as tasks (events/tracing.ts), not as messages.
    this.#producer = this.connection.producer({ serializer: conf.policy.serializer, trace: false });
    this.#route = compileRoutes(conf.taskRoutes);
    for (const q of conf.queues) this.#queues.set(q.name, q);
    const logger = this.connection.logger;
    this.events = new EventsApi({ connection: this.connection, hostname: this.hostname, conf, wakeup: () => this.control.heartbeat() }, options);
    if (this.events.options.sendTaskSentEvent) this.on('task-sent', (info) => this.events.taskSent(info));
    this.#mailbox = new Mailbox(options);
    this.#remoteControl = options.enableRemoteControl !== false;
    this.control = new Control({
      connection: this.connection,
      oid: this.oid,
      clock: this.events.clock,
      mailbox: this.#mailbox,
      serializer: conf.policy.serializer,
      accept: conf.accept,
    });
    // What each subsystem reads of this App (its *Host), not the App itself.
    const backend = (): ResultBackend => this.backend;
    this.#chords = new Chords({
      conf,
      logger,
      tasks: this.#tasks,
      get backend(): ResultBackend {
        return backend();
      },
      send: (name, args, kwargs, o, task) => this.send(name, args, kwargs, o, task),
      sendTask: (name, args, kwargs, o) => this.sendTask(name, args, kwargs, o),
      task: (name, handler, o) => this.task(name, handler, o),
    });
    this.#onceLocks = new OnceLocks({ conf, logger, result: (id) => this.result(id) }, options);
    this.#workerHost = {
      conf,
      tasks: this.#tasks,
      get backend(): ResultBackend {
        return backend();
      },
      queue: (name) => this.queue(name),
      send: (name, args, kwargs, o, task) => this.send(name, args, kwargs, o, task),
      chordPart: (request, state, result) => this.#chords.partReturn(request, state, result),
      releaseOnce: (task, request) => this.#onceLocks.release(task, request.id, request.args, request.kwargs),
    };
  }

  /** Register a task. The handler's parameters type `delay`/`applyAsync`; its result types `AsyncResult`. */
  task<F extends TaskHandler>(name: string, handler: F, options: TaskOptions = {}): Task<F> {
    if (this.#tasks.has(name)) throw new TaskConfigError(`task "${name}" is already registered`);
    checkParams(name, options.params);
    const task = new Task(this, name, handler, options, resolvePolicy(options, this.conf.policy));
    this.#tasks.set(name, task as Task<TaskHandler>);
    return task;
  }

  /** Registered tasks by name. */
  get tasks(): ReadonlyMap<string, Task<TaskHandler>> {
    return this.#tasks;
  }

  /** The result backend (created on first use; a disabled one when no `backend` URL was given). */
  get backend(): ResultBackend {
    if (!this.#backend) {
      const host: BackendHost = {
        connection: this.connection,
        oid: this.oid,
        resultExpires: this.conf.resultExpires,
        logger: this.logger ?? this.connection.logger,
      };
      this.#backend = this.conf.backend === undefined ? new DisabledBackend() : createBackend(this.conf.backend, host);
    }
    return this.#backend;
  }

  /** The result of a task by id. */
  result<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this.backend, this.control);
  }

  /** Send a task by name (one that may live elsewhere, e.g. in Python). */
  sendTask<N extends string>(name: N, args: SendArgs<N>, kwargs?: SendKwargs<N>, options?: ApplyOptions): Promise<AsyncResult<SendResult<N>>> {
    return this.send<SendResult<N>>(name, args as readonly unknown[], kwargs as Readonly<Record<string, unknown>> | undefined, options, this.#tasks.get(name));
  }

  /** Before a chord's header is sent (Celery's apply_chord): the chord size on a Redis backend, a chord_unlock task elsewhere. */
  prepareChord(groupId: string, headerIds: readonly string[], body: Signature): Promise<void> {
    return this.#chords.prepare(groupId, headerIds, body);
  }

  /**
   * The queue entity for a name, declared exactly as Celery declares it: the default queue bound to
   * the default exchange (direct, durable) with the default routing key, any other name bound to a
   * direct exchange of its own name (task_create_missing_queues), x-max-priority only if configured.
   */
  queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      const isDefault = name === this.conf.defaultQueue;
      const exchange = new Exchange(isDefault ? this.conf.defaultExchange : name, { type: 'direct' });
      queue = new Queue(name, {
        exchange,
        routingKey: isDefault ? this.conf.defaultRoutingKey : name,
        ...(this.conf.queueMaxPriority !== undefined && { maxPriority: this.conf.queueMaxPriority }),
      });
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Make a worker for this app's tasks, with its events (when it sends them) and remote control (unless disabled). */
  worker(options: WorkerOptions = {}): Worker {
    const worker = new Worker(this.#workerHost, options);
    const events = this.events.workerSender(worker);
    if (events) worker.use(events);
    if (this.#remoteControl) {
      worker.use(remoteControlNode({ conf: this.conf, tasks: this.#tasks, mailbox: this.#mailbox, clock: this.events.clock }, worker, events));
    }
    this.emit('worker-created', worker);
    return worker;
  }

  /** A beat (scheduler) for this app: `start()` it in any number of processes, one leads. */
  beat(options: BeatOptions): Beat {
    return new Beat({ conf: this.conf, logger: this.connection.logger, sendTask: (name, args, kwargs, o) => this.sendTask(name, args, kwargs, o) }, options);
  }

  /** `await using app = new App(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Close the backend and the sending connection. */
  async close(): Promise<void> {
    await this.control.close();
    await this.#chords.close();
    await this.#onceLocks.close();
    await this.#backend?.close();
    await this.connection.close();
  }

  /** @internal Build and publish one task message (Task, sendTask, retries and callbacks come here). */
  async send<R>(
    name: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>> | undefined,
    options: ApplyOptions = {},
    task: Task<TaskHandler> | undefined,
  ): Promise<AsyncResult<R>> {
    if (!Array.isArray(args)) throw new TaskConfigError(`task ${name}: args must be an array`);
    const policy = task?.policy ?? this.conf.policy;
    const id = options.taskId ?? randomUUID();
    const replyTo = options.replyTo ?? this.oid;
    const now = Date.now();
    const eta = options.eta ?? (options.countdown !== undefined && options.countdown > 0 ? new Date(now + options.countdown) : undefined);
    const expiresIn = options.expires ?? task?.options.expires;
    const expires = typeof expiresIn === 'number' ? new Date(now + expiresIn) : expiresIn;
    const call: TaskCall = {
      id,
      name,
      args,
      kwargs: kwargs ?? {},
      // Most calls have none of these: taskBody writes the embed of nulls then.
      ...((options.link ?? options.linkError ?? options.chain ?? options.chord) !== undefined && {
        embed: {
          callbacks: linked(options.link, replyTo),
          errbacks: linked(options.linkError, replyTo),
          chain: options.chain ? [...options.chain] : null,
          chord: options.chord ?? null,
        },
      }),
      retries: options.retries ?? 0,
      ...(eta && { eta }),
      ...(expires && { expires }),
      ...(options.rootId !== undefined && { rootId: options.rootId }),
      parentId: options.parentId ?? null,
      group: options.group ?? null,
      groupIndex: options.groupIndex ?? null,
      ...((options.timeLimit ?? policy.timeLimit) !== undefined && { timeLimit: options.timeLimit ?? policy.timeLimit }),
      ...((options.softTimeLimit ?? policy.softTimeLimit) !== undefined && { softTimeLimit: options.softTimeLimit ?? policy.softTimeLimit }),
      origin: this.hostname,
      ignoreResult: options.ignoreResult ?? policy.ignoreResult,
      ...(options.argsrepr !== undefined && { argsrepr: options.argsrepr }),
      ...(options.kwargsrepr !== undefined && { kwargsrepr: options.kwargsrepr }),
      shadow: options.shadow ?? null,
      timezone: this.conf.timezone,
    };
    const headers = taskHeaders(call);
    if (options.headers) Object.assign(headers, options.headers);
    const route = this.#resolveRoute(name, args, kwargs ?? {}, options, task);
    const publish: PublishOptions = {
      exchange: route.exchange,
      routingKey: route.routingKey,
      ...(route.queue && { declare: [route.queue] }),
      headers,
      deliveryMode: this.conf.deliveryMode,
      correlationId: id,
      replyTo,
      serializer: options.serializer ?? policy.serializer,
      ...((options.compression ?? policy.compression) !== undefined && { compression: options.compression ?? policy.compression }),
      ...((options.priority ?? route.priority ?? policy.priority) !== undefined && { priority: options.priority ?? route.priority ?? policy.priority }),
    };
    if (eta && eta.getTime() > now && this.conf.publishDelayed) {
      // Otherwise the message goes to the queue as Celery sends it, and a nori worker parks it.
      const transport = await this.connection.transport();
      if (transport.capabilities.nativeDelay) publish.delay = eta.getTime() - now;
    }
    const backend = this.backend;
    if (backend.onTaskCall) await backend.onTaskCall(id);
    // A retry keeps the lock its first send took.
    const locked = task?.options.once !== undefined && options.retries === undefined;
    if (locked) {
      const holder = await this.#onceLocks.acquire<R>(task, id, args, kwargs ?? {});
      if (holder) return holder;
    }
    try {
      const body = taskBody(call);
      if (!taskSendChannel.hasSubscribers) await this.#publish(body, publish);
      else {
        const { exchange, routingKey } = route;
        const context = { name, id, retries: call.retries ?? 0, headers, exchange, routingKey, transport: this.connection.info().transport };
        await taskSendChannel.tracePromise(() => this.#publish(body, publish), context);
      }
    } catch (error) {
      if (locked) await this.#onceLocks.release(task, id, args, kwargs ?? {}).catch(() => undefined);
      throw error;
    }
    if (this.listenerCount('task-sent') > 0)
      this.emit('task-sent', {
        id,
        name,
        args,
        kwargs: kwargs ?? {},
        eta,
        expires,
        queue: route.queue?.name,
        exchange: route.exchange,
        routingKey: route.routingKey,
        retries: call.retries ?? 0,
        rootId: headers['root_id'] as string,
        parentId: call.parentId ?? null,
      });
    return new AsyncResult<R>(id, backend, this.control);
  }

  /** First try on the fast path; connection errors are retried with Celery's publish policy. */
  #publish(body: unknown, options: PublishOptions): Promise<void> {
    const first = this.#producer.publish(body, options);
    if (!this.conf.publishRetry) return first;
    return first.catch((error: unknown) => {
      if (!(error instanceof ConnectionError || error instanceof TimeoutError)) throw error;
      return this.#producer.publish(body, { ...options, retry: true, ...(this.conf.publishRetryPolicy && { retryPolicy: this.conf.publishRetryPolicy }) });
    });
  }

  /** Celery's send_task_message routing: a direct exchange (or none) becomes the nameless exchange with the queue as routing key. */
  #resolveRoute(
    name: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
    options: ApplyOptions,
    task: Task<TaskHandler> | undefined,
  ): { queue: Queue | undefined; exchange: string; routingKey: string; priority: number | undefined } {
    const explicit = options.queue !== undefined || options.exchange !== undefined || options.routingKey !== undefined;
    const route: Route = explicit ? pickRoute(options) : (this.#route(name, args, kwargs) ?? (task ? pickRoute(task.options) : NO_ROUTE));
    const queueName = route.queue ?? (route.exchange === undefined ? this.conf.defaultQueue : undefined);
    const queue = queueName === undefined ? undefined : this.queue(queueName);
    const binding = queue?.bindings[0];
    const exchangeType = binding?.exchange.type ?? 'direct';
    if ((!route.exchange || !route.routingKey) && exchangeType === 'direct' && queueName !== undefined) {
      return { queue, exchange: '', routingKey: queueName, priority: route.priority };
    }
    return {
      queue,
      exchange: route.exchange ?? binding?.exchange.name ?? this.conf.defaultExchange,
      routingKey: route.routingKey ?? binding?.routingKey ?? this.conf.defaultRoutingKey,
      priority: route.priority,
    };
  }
}
