/**
 * A connection to a broker, chosen by URL scheme. Lazy: nothing connects until first use (or
 * `connect()`). A failover list (`'a;b'` or an array) is tried in turn. Events from the transport
 * (connected, disconnected, reconnecting, error, returned) are re-emitted here.
 */
import { abortError, raceAbort } from './abort.js';
import type { ConnectionHost, Stoppable } from './connection-host.js';
import { ConsumeIterator, type ConsumeIteratorOptions } from './consume-iterator.js';
import { Consumer, type ConsumerOptions, type MessageHandler } from './consumer.js';
import { asyncDispose } from './dispose.js';
import { Emitter } from './emitter.js';
import { ConnectionClosedError, ConnectionError, NotFoundError, UnknownSchemeError } from './errors.js';
import { Exchange } from './exchange.js';
import { silentLogger, type Logger } from './logger.js';
import { Producer, type ProducerOptions } from './producer.js';
import { Queue } from './queue.js';
import { retry, type RetryPolicy } from './retry.js';
import type { InferOutput, StandardSchemaV1 } from './schema.js';
import { SimpleQueue, type SimpleQueueOptions } from './simple-queue.js';
import type { QueueStatus, Transport, TransportCapabilities, TransportEvents } from './spi/transport.js';
import { knownSchemes, loadTransport } from './spi/transports.js';
import { parseUrls, type BrokerUrl } from './url.js';

export interface ConnectionOptions {
  /** Transport-specific options; URL query options are merged under these. */
  transportOptions?: Record<string, unknown>;
  /** Per-attempt connect timeout in ms. Default 4000 (kombu's). */
  connectTimeout?: number;
  /** Heartbeat in seconds (AMQP). */
  heartbeat?: number;
  /** Name shown by the broker for this connection. */
  connectionName?: string;
  /** pino-shaped logger; silent by default. */
  logger?: Logger;
}

export type ConnectionEvents = TransportEvents;

export interface ConnectionInfo {
  transport: string;
  hostname: string | undefined;
  port: number | undefined;
  userid: string | undefined;
  virtualHost: string | undefined;
  /** The current URL with the password masked. */
  url: string;
  /** Every URL of the failover list, masked. */
  alternates: string[];
}

export interface ConnectOptions {
  /**
   * Stop waiting: rejects with `AbortError` at once (a connect already under way may still
   * complete). `close()` ends the wait too, with `ConnectionClosedError`.
   */
  signal?: AbortSignal;
}

export interface EnsureConnectionOptions extends RetryPolicy, ConnectOptions {}

/** Options of a typed call whose body type comes from its `schema`. */
type WithSchema<O, S> = Omit<O, 'schema'> & { schema: S };

export class Connection extends Emitter<ConnectionEvents> {
  readonly urls: readonly BrokerUrl[];
  override readonly logger: Logger;
  #transport: Transport | undefined;
  #connecting: Promise<Transport> | undefined;
  /** The transport a connect is under way on: close() closes it, so the connect ends. */
  #opening: Transport | undefined;
  /** Aborted by close(): every pending connect, ensureConnection and its retry sleep end at once. */
  readonly #closing = new AbortController();
  #declared = new Map<string, string>();
  /** Entity objects already declared on this transport: the per-publish check is a lookup. */
  #declaredObjects = new WeakSet<Exchange | Queue>();
  readonly #consumers = new Set<Stoppable>();
  /** Handed to the producers, consumers and queues this connection makes. */
  readonly #host: ConnectionHost;

  constructor(
    urls: string | readonly string[],
    readonly options: ConnectionOptions = {},
  ) {
    const logger = options.logger ?? silentLogger;
    super(logger);
    this.logger = logger;
    this.urls = parseUrls(urls);
    const known = knownSchemes();
    for (const url of this.urls) {
      if (!known.includes(url.scheme)) throw new UnknownSchemeError(url.scheme, known);
    }
    this.#host = {
      logger,
      urls: this.urls,
      transport: () => this.transport(),
      activeTransport: () => this.#transport,
      declare: (entity) => this.declare(entity),
      queueSize: (queue) => this.queueSize(queue),
      purge: (queue) => this.purge(queue),
      isDeclared: (entity) => this.#isDeclared(entity),
      untilClosed: (signal, work) => this.#untilClosed(signal, work),
      track: (consumer) => this.#consumers.add(consumer),
      untrack: (consumer) => this.#consumers.delete(consumer),
    };
  }

  get connected(): boolean {
    return this.#transport !== undefined;
  }

  /** What the transport can do; needs a connection. */
  get capabilities(): TransportCapabilities {
    if (!this.#transport) throw new ConnectionError('not connected: call connect() first');
    return this.#transport.capabilities;
  }

  /** Connects now (it is lazy otherwise); rejects with `ConnectionClosedError` once closed. */
  async connect(options: ConnectOptions = {}): Promise<this> {
    await this.#untilClosed(options.signal, (stop) => raceAbort(this.transport(), stop));
    return this;
  }

  /** Connect, retrying with backoff on connection errors, until connected, out of retries, aborted or closed. */
  async ensureConnection(options: EnsureConnectionOptions = {}): Promise<this> {
    const { signal, ...policy } = options;
    await this.#untilClosed(signal, (stop) =>
      retry(() => raceAbort(this.transport(), stop), policy, {
        isRetryable: (error) => error instanceof ConnectionError,
        onRetry: (error, attempt, delayMs) => {
          this.logger.debug({ err: error, attempt, delayMs }, 'nori connection: connect failed; retrying');
          this.emit('reconnecting', attempt, delayMs);
        },
        signal: stop,
      }),
    );
    return this;
  }

  /**
   * Runs `work` with a signal that fires when `signal` does or close() is called; it then rejects
   * with `AbortError` or `ConnectionClosedError` respectively, whatever `work` was waiting for.
   */
  async #untilClosed<T>(signal: AbortSignal | undefined, work: (stop: AbortSignal) => Promise<T>): Promise<T> {
    const closing = this.#closing.signal;
    try {
      return await work(signal ? AbortSignal.any([signal, closing]) : closing);
    } catch (error) {
      if (closing.aborted) throw error instanceof ConnectionClosedError ? error : this.#closedError(error);
      throw signal?.aborted ? abortError(signal) : error;
    }
  }

  #closedError(cause?: unknown): ConnectionClosedError {
    return new ConnectionClosedError(`connection to ${(this.urls[0] as BrokerUrl).masked} is closed`, { cause });
  }

  /** Whether this entity object was declared on the current transport. */
  #isDeclared(entity: Exchange | Queue): boolean {
    return (entity instanceof Exchange && entity.name === '') || this.#declaredObjects.has(entity);
  }

  /** The connected transport, connecting on first use; a closed connection does not connect again. */
  transport(): Promise<Transport> {
    if (this.#transport) return Promise.resolve(this.#transport);
    if (this.#closing.signal.aborted) return Promise.reject(this.#closedError());
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(): Promise<Transport> {
    const first = this.urls[0] as BrokerUrl;
    const factory = await loadTransport(first.scheme);
    const transport = factory(this.urls, {
      transportOptions: { ...first.query, ...this.options.transportOptions },
      logger: this.logger,
      connectTimeout: this.options.connectTimeout ?? 4000,
      ...(this.options.heartbeat !== undefined && { heartbeat: this.options.heartbeat }),
      ...(this.options.connectionName !== undefined && { connectionName: this.options.connectionName }),
    });
    for (const event of ['connected', 'disconnected', 'reconnecting', 'error', 'returned', 'blocked', 'unblocked'] as const) {
      transport.on(event, (...args: unknown[]) => (this.emit as (e: string, ...a: unknown[]) => void)(event, ...args));
    }
    transport.on('connected', (url) => this.logger.debug({ url }, 'nori connection: connected'));
    transport.on('disconnected', (error) => this.logger.debug({ err: error }, 'nori connection: disconnected'));
    transport.on('reconnecting', (attempt, delayMs) => this.logger.debug({ attempt, delayMs }, 'nori connection: reconnecting'));
    this.#opening = transport;
    try {
      await transport.connect();
    } finally {
      this.#opening = undefined;
    }
    if (this.#closing.signal.aborted) {
      await transport.close();
      throw this.#closedError();
    }
    this.#transport = transport;
    this.#declared = new Map();
    this.#declaredObjects = new WeakSet();
    return transport;
  }

  /**
   * Stop consumers (returning their prefetched messages) and close the transport. Every pending
   * connect and `ensureConnection` rejects with `ConnectionClosedError`, a connect under way is
   * ended, and the connection does not connect again.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.all([...this.#consumers].map((c) => c.stop()));
    await this.#opening?.close();
    const transport = this.#transport ?? (await this.#connecting?.catch(() => undefined));
    this.#transport = undefined;
    await transport?.close();
  }

  /** `await using conn = new Connection(...)` closes it. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  info(): ConnectionInfo {
    const url = this.urls[0] as BrokerUrl;
    return {
      transport: url.scheme,
      hostname: url.hostname,
      port: url.port,
      userid: url.username,
      virtualHost: url.virtualHost,
      url: url.masked,
      alternates: this.urls.map((u) => u.masked),
    };
  }

  /** Declare an exchange, or a queue with its exchanges and bindings; cached per connection. */
  async declare(entity: Exchange | Queue): Promise<void> {
    if (this.#isDeclared(entity)) return;
    const transport = await this.transport();
    if (entity instanceof Exchange) {
      if (entity.name === '') return;
      const spec = entity.spec();
      const key = `exchange:${spec.name}`;
      const json = JSON.stringify(spec);
      if (this.#declared.get(key) === json) return;
      await transport.declareExchange(spec);
      this.logger.debug({ exchange: spec.name, type: spec.type }, 'nori connection: declared exchange');
      this.#declared.set(key, json);
      this.#declaredObjects.add(entity);
      return;
    }
    const spec = entity.spec();
    const key = `queue:${spec.name}`;
    const json = JSON.stringify(spec);
    if (this.#declared.get(key) === json) return;
    for (const exchange of entity.exchanges()) await this.declare(exchange);
    await transport.declareQueue(spec);
    this.logger.debug({ queue: spec.name, bindings: spec.bindings.length }, 'nori connection: declared queue');
    this.#declared.set(key, json);
    this.#declaredObjects.add(entity);
  }

  async purge(queue: Queue | string): Promise<number> {
    return (await this.transport()).purgeQueue(typeof queue === 'string' ? queue : queue.name);
  }

  async deleteQueue(queue: Queue | string): Promise<void> {
    const name = typeof queue === 'string' ? queue : queue.name;
    this.#declared.delete(`queue:${name}`);
    if (typeof queue !== 'string') this.#declaredObjects.delete(queue);
    await (await this.transport()).deleteQueue(name);
  }

  async deleteExchange(exchange: Exchange | string): Promise<void> {
    const name = typeof exchange === 'string' ? exchange : exchange.name;
    this.#declared.delete(`exchange:${name}`);
    if (typeof exchange !== 'string') this.#declaredObjects.delete(exchange);
    await (await this.transport()).deleteExchange(name);
  }

  /** Message and consumer counts; rejects with `NotFoundError` for a queue that does not exist. */
  async queueStatus(queue: Queue | string): Promise<QueueStatus> {
    return (await this.transport()).checkQueue(typeof queue === 'string' ? queue : queue.name);
  }

  /** Ready messages in a queue, 0 if it does not exist. */
  async queueSize(queue: Queue | string): Promise<number> {
    try {
      return (await this.queueStatus(queue)).messageCount;
    } catch (error) {
      if (error instanceof NotFoundError) return 0;
      throw error;
    }
  }

  producer(options: ProducerOptions = {}): Producer {
    return new Producer(this.#host, options);
  }

  /**
   * A consumer whose `message.body` is `T`: the schema's output when `schema` is given (checked
   * at run time), else declared by the caller (`conn.consumer<Order>(...)`, taken on trust).
   */
  consumer<S extends StandardSchemaV1>(
    queues: ReadonlyArray<Queue | string>,
    options: WithSchema<ConsumerOptions<InferOutput<S>>, S>,
    handler: MessageHandler<InferOutput<S>>,
  ): Consumer<InferOutput<S>>;
  consumer<T = unknown>(queues: ReadonlyArray<Queue | string>, options: ConsumerOptions<T>, handler: MessageHandler<T>): Consumer<T>;
  consumer<T = unknown>(queues: ReadonlyArray<Queue | string>, handler: MessageHandler<T>): Consumer<T>;
  consumer<T>(queues: ReadonlyArray<Queue | string>, a: ConsumerOptions<T> | MessageHandler<T>, b?: MessageHandler<T>): Consumer<T> {
    return typeof a === 'function' ? new Consumer<T>(this.#host, queues, {}, a) : new Consumer<T>(this.#host, queues, a, b as MessageHandler<T>);
  }

  /** Async-iterator form: `for await (const m of conn.consume([queue])) { ... }`. */
  consume<S extends StandardSchemaV1>(
    queues: ReadonlyArray<Queue | string>,
    options: WithSchema<ConsumeIteratorOptions<InferOutput<S>>, S>,
  ): ConsumeIterator<InferOutput<S>>;
  consume<T = unknown>(queues: ReadonlyArray<Queue | string>, options?: ConsumeIteratorOptions<T>): ConsumeIterator<T>;
  consume<T>(queues: ReadonlyArray<Queue | string>, options: ConsumeIteratorOptions<T> = {}): ConsumeIterator<T> {
    return new ConsumeIterator<T>(this.#host, queues, options);
  }

  simpleQueue<S extends StandardSchemaV1>(queue: Queue | string, options: WithSchema<SimpleQueueOptions<InferOutput<S>>, S>): SimpleQueue<InferOutput<S>>;
  simpleQueue<T = unknown>(queue: Queue | string, options?: SimpleQueueOptions<T>): SimpleQueue<T>;
  simpleQueue<T>(queue: Queue | string, options: SimpleQueueOptions<T> = {}): SimpleQueue<T> {
    return new SimpleQueue<T>(this.#host, queue, options, false);
  }

  /** A transient, auto-deleted queue whose messages are acked on receipt (kombu's SimpleBuffer). */
  simpleBuffer<S extends StandardSchemaV1>(queue: Queue | string, options: WithSchema<SimpleQueueOptions<InferOutput<S>>, S>): SimpleQueue<InferOutput<S>>;
  simpleBuffer<T = unknown>(queue: Queue | string, options?: SimpleQueueOptions<T>): SimpleQueue<T>;
  simpleBuffer<T>(queue: Queue | string, options: SimpleQueueOptions<T> = {}): SimpleQueue<T> {
    return new SimpleQueue<T>(this.#host, queue, options, true);
  }
}
