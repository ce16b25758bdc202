/**
 * A connection to a broker, chosen by URL scheme. Lazy: nothing connects until first use (or
 * `connect()`). A failover list (`'a;b'` or an array) is tried in turn. Events from the transport
 * (connected, disconnected, reconnecting, error, returned) are re-emitted here.
 */
import { ConsumeIterator } from './consume-iterator.js';
import { Consumer, type ConsumerOptions, type MessageHandler } from './consumer.js';
import { Emitter } from './emitter.js';
import { ConnectionError, NotFoundError, UnknownSchemeError } from './errors.js';
import { Exchange } from './exchange.js';
import { silentLogger, type Logger } from './logger.js';
import type { Message } from './message.js';
import { Producer, type ProducerOptions } from './producer.js';
import { Queue } from './queue.js';
import { retry, type RetryPolicy } from './retry.js';
import { SimpleQueue, type SimpleQueueOptions } from './simple-queue.js';
import type { QueueStatus, Transport, TransportCapabilities, TransportEvents } from './transport.js';
import { knownSchemes, loadTransport } from './transports.js';
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

export type EnsureConnectionOptions = RetryPolicy;

export class Connection extends Emitter<ConnectionEvents> {
  readonly urls: readonly BrokerUrl[];
  override readonly logger: Logger;
  #transport: Transport | undefined;
  #connecting: Promise<Transport> | undefined;
  #declared = new Map<string, string>();
  /** Entity objects already declared on this transport: the per-publish check is a lookup. */
  #declaredObjects = new WeakSet<Exchange | Queue>();
  readonly #consumers = new Set<Consumer>();

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
  }

  get connected(): boolean {
    return this.#transport !== undefined;
  }

  /** What the transport can do; needs a connection. */
  get capabilities(): TransportCapabilities {
    if (!this.#transport) throw new ConnectionError('not connected: call connect() first');
    return this.#transport.capabilities;
  }

  async connect(): Promise<this> {
    await this.transport();
    return this;
  }

  /** Connect, retrying with backoff on connection errors. */
  async ensureConnection(policy: EnsureConnectionOptions = {}): Promise<this> {
    await retry(() => this.transport(), policy, {
      isRetryable: (error) => error instanceof ConnectionError,
      onRetry: (_error, attempt, delayMs) => this.emit('reconnecting', attempt, delayMs),
    });
    return this;
  }

  /** The transport if connected, else undefined (never connects). */
  get activeTransport(): Transport | undefined {
    return this.#transport;
  }

  /** Whether this entity object was declared on the current transport. */
  isDeclared(entity: Exchange | Queue): boolean {
    return (entity instanceof Exchange && entity.name === '') || this.#declaredObjects.has(entity);
  }

  /** The connected transport, connecting on first use. */
  transport(): Promise<Transport> {
    if (this.#transport) return Promise.resolve(this.#transport);
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
    for (const event of ['connected', 'disconnected', 'reconnecting', 'error', 'returned'] as const) {
      transport.on(event, (...args: unknown[]) => (this.emit as (e: string, ...a: unknown[]) => void)(event, ...args));
    }
    await transport.connect();
    this.#transport = transport;
    this.#declared = new Map();
    this.#declaredObjects = new WeakSet();
    return transport;
  }

  /** Stop consumers (returning their prefetched messages) and close the transport. */
  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.stop()));
    const transport = this.#transport ?? (await this.#connecting?.catch(() => undefined));
    this.#transport = undefined;
    await transport?.close();
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
    if (this.isDeclared(entity)) return;
    const transport = await this.transport();
    if (entity instanceof Exchange) {
      if (entity.name === '') return;
      const spec = entity.spec();
      const key = `exchange:${spec.name}`;
      const json = JSON.stringify(spec);
      if (this.#declared.get(key) === json) return;
      await transport.declareExchange(spec);
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
    return new Producer(this, options);
  }

  consumer(queues: ReadonlyArray<Queue | string>, options: ConsumerOptions, handler: MessageHandler): Consumer;
  consumer(queues: ReadonlyArray<Queue | string>, handler: MessageHandler): Consumer;
  consumer(queues: ReadonlyArray<Queue | string>, a: ConsumerOptions | MessageHandler, b?: MessageHandler): Consumer {
    return typeof a === 'function' ? new Consumer(this, queues, {}, a) : new Consumer(this, queues, a, b as MessageHandler);
  }

  /** Async-iterator form: `for await (const m of conn.consume([queue])) { ... }`. */
  consume(queues: ReadonlyArray<Queue | string>, options: Omit<ConsumerOptions, 'concurrency'> = {}): AsyncIterableIterator<Message> {
    return new ConsumeIterator(this, queues, options);
  }

  simpleQueue(queue: Queue | string, options: SimpleQueueOptions = {}): SimpleQueue {
    return new SimpleQueue(this, queue, options, false);
  }

  /** A transient, auto-deleted queue whose messages are acked on receipt (kombu's SimpleBuffer). */
  simpleBuffer(queue: Queue | string, options: SimpleQueueOptions = {}): SimpleQueue {
    return new SimpleQueue(this, queue, options, true);
  }

  /** @internal consumers register so close() can stop them. */
  track(consumer: Consumer): void {
    this.#consumers.add(consumer);
  }

  /** @internal */
  untrack(consumer: Consumer): void {
    this.#consumers.delete(consumer);
  }
}
