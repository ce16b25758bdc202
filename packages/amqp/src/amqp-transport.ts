/**
 * RabbitMQ via amqplib, with what users otherwise add through amqp-connection-manager or rascal:
 * publisher confirms, back-pressure, a bounded buffer while disconnected, and a reconnect state
 * machine (connected → disconnected → reconnecting(attempt, delay) → connected) that replays the
 * topology and re-registers consumers.
 */
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import {
  backoffDelay,
  ConnectionClosedError,
  ConnectionError,
  Emitter,
  InvalidArgumentError,
  NotFoundError,
  PublishBufferFullError,
  PublishNackedError,
  TimeoutError,
  type BrokerUrl,
  type ConsumeOptions,
  type Delivery,
  type ExchangeSpec,
  type OutgoingMessage,
  type PublishTarget,
  type QueueSpec,
  type QueueStatus,
  type Subscription,
  type Transport,
  type TransportCapabilities,
  type TransportEvents,
  type TransportOptions,
} from '@nori/core';
import { toDelivery } from './amqp-delivery.js';
import { amqpSettings, connectOptions, type AmqpSettings } from './amqp-options.js';
import { AmqpSubscription } from './amqp-subscription.js';
import { LazyChannel } from './lazy-channel.js';
import { holdWrites } from './write-coalescer.js';

const CAPABILITIES: TransportCapabilities = {
  exchangeTypes: ['direct', 'topic', 'fanout', 'headers'],
  exchangeBindings: true,
  priorities: true,
  messageTtl: true,
  queueExpires: true,
  maxLength: true,
  deadLetter: true,
  confirms: true,
  nativeDelay: false,
  mandatory: true,
  redeliversOnCrash: true,
  processLocal: false,
};

type State = 'idle' | 'connected' | 'reconnecting' | 'closed';

interface PendingPublish {
  readonly message: OutgoingMessage;
  readonly target: PublishTarget;
  readonly deadline: number;
  resolve(): void;
  reject(error: Error): void;
}

/** Map a channel error to nori's: 404 → NotFoundError, 406 → InvalidArgumentError. */
function amqpError(error: unknown, what: string): Error {
  const e = error as { code?: number; message?: string };
  const message = `${what}: ${e.message ?? String(error)}`;
  if (e.code === 404) return new NotFoundError(message, { cause: error });
  if (e.code === 406) return new InvalidArgumentError(message, { cause: error });
  return new ConnectionError(message, { cause: error });
}

function queueArguments(q: QueueSpec): Record<string, unknown> {
  return {
    ...q.arguments,
    ...(q.expires !== undefined && { 'x-expires': q.expires }),
    ...(q.messageTtl !== undefined && { 'x-message-ttl': q.messageTtl }),
    ...(q.maxLength !== undefined && { 'x-max-length': q.maxLength }),
    ...(q.maxPriority !== undefined && { 'x-max-priority': q.maxPriority }),
    ...(q.deadLetterExchange !== undefined && { 'x-dead-letter-exchange': q.deadLetterExchange }),
    ...(q.deadLetterRoutingKey !== undefined && { 'x-dead-letter-routing-key': q.deadLetterRoutingKey }),
  };
}

/** Built by assignment, not spreads: this runs once per published message. */
function publishOptions(message: OutgoingMessage, mandatory: boolean): Options.Publish {
  const p = message.properties;
  const o: Options.Publish = {
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: message.headers,
    deliveryMode: p.deliveryMode ?? 2,
    mandatory,
  };
  if (p.priority !== undefined) o.priority = p.priority;
  if (p.correlationId !== undefined) o.correlationId = p.correlationId;
  if (p.replyTo !== undefined) o.replyTo = p.replyTo;
  if (p.expiration !== undefined) o.expiration = String(p.expiration);
  if (p.messageId !== undefined) o.messageId = p.messageId;
  if (p.timestamp !== undefined) o.timestamp = p.timestamp;
  if (p.type !== undefined) o.type = p.type;
  if (p.userId !== undefined) o.userId = p.userId;
  if (p.appId !== undefined) o.appId = p.appId;
  return o;
}

/**
 * Resolves when a full channel drains, or when it closes: a channel that dies full never drains,
 * and the publishes held behind it must move on (to the buffer, for the reconnect).
 */
function drainOrClose(ch: Channel): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.on('drain', done);
    ch.on('close', done);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class AmqpTransport extends Emitter<TransportEvents> implements Transport {
  readonly capabilities = CAPABILITIES;
  readonly #settings: AmqpSettings;
  #state: State = 'idle';
  #next = 0;
  #model: ChannelModel | undefined;
  readonly #publisher = new LazyChannel<ConfirmChannel>(() => this.#openPublisher());
  /** Why a publisher channel was closed by the broker (404 on a missing exchange, ...). */
  readonly #channelErrors = new WeakMap<Channel, Error>();
  readonly #admin = new LazyChannel<Channel>(() => this.#openAdmin());
  readonly #getter = new LazyChannel<Channel>(() => this.#openGetter());
  /** Declarations to replay after a reconnect, in the order they were made. */
  readonly #topology = new Map<string, (ch: Channel) => Promise<unknown>>();
  readonly #subscriptions = new Set<AmqpSubscription>();
  /** Publishes waiting for a connection (bounded). */
  #buffer: PendingPublish[] = [];
  /** Publishes sent and waiting for their confirm. */
  readonly #unconfirmed = new Set<PendingPublish>();
  #drained: Promise<void> | undefined;
  #timeouts: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;
  #markReady: (() => void) | undefined;

  constructor(
    private readonly urls: readonly BrokerUrl[],
    private readonly options: TransportOptions,
  ) {
    super(options.logger);
    this.#settings = amqpSettings(options);
  }

  // ---- connection state machine -------------------------------------------------------------

  async connect(): Promise<void> {
    if (this.#state === 'closed') throw new ConnectionClosedError('transport is closed');
    if (this.#state !== 'idle') return;
    await this.#open();
    this.#timeouts = setInterval(() => this.#expirePublishes(), 250);
    this.#timeouts.unref();
  }

  /** Dial the URLs in turn; set up the channels; replay topology and consumers. */
  async #open(): Promise<void> {
    const errors: string[] = [];
    let model: ChannelModel | undefined;
    let url: BrokerUrl | undefined;
    for (let i = 0; i < this.urls.length && !model; i++) {
      url = this.urls[(this.#next + i) % this.urls.length] as BrokerUrl;
      const { connect, socket } = connectOptions(url, this.options);
      try {
        model = await amqplib.connect(connect, socket);
        this.#next = (this.#next + i + 1) % this.urls.length;
      } catch (error) {
        errors.push(`${url.masked}: ${(error as Error).message}`);
      }
    }
    if (!model || !url) throw new ConnectionError(`cannot connect to ${this.urls.map((u) => u.masked).join(' or ')}: ${errors.join('; ')}`);
    try {
      model.on('error', (e: Error) => this.emit('error', e));
      model.on('close', (e?: Error) => this.#lost(model, e));
      this.#model = model;
      const admin = await this.#admin.get();
      for (const declare of this.#topology.values()) await declare(admin);
      for (const s of this.#subscriptions) await s.open(model);
    } catch (error) {
      this.#model = undefined;
      await model.close().catch(() => undefined);
      throw error;
    }
    this.#state = 'connected';
    this.emit('connected', url.masked);
    this.#markReady?.();
    this.#ready = undefined;
    const waiting = this.#buffer;
    this.#buffer = [];
    for (const p of waiting) this.#send(p);
  }

  #lost(model: ChannelModel, error: Error | undefined): void {
    if (this.#model !== model || this.#state === 'closed') return;
    this.#model = undefined;
    this.#publisher.reset();
    this.#admin.reset();
    this.#getter.reset();
    for (const s of this.#subscriptions) s.channel = undefined;
    this.#state = 'reconnecting';
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    // Sent but unconfirmed: the broker may or may not have them; send again (at least once).
    for (const p of this.#unconfirmed) this.#buffer.push(p);
    this.#unconfirmed.clear();
    this.emit('disconnected', error);
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    const policy = this.#settings.reconnect;
    for (let attempt = 1; this.#state === 'reconnecting'; attempt++) {
      if (policy.maxRetries !== undefined && attempt > policy.maxRetries) {
        const error = new ConnectionError(`gave up reconnecting after ${attempt - 1} attempts`);
        this.emit('error', error);
        await this.close(error);
        return;
      }
      const delay = backoffDelay(attempt, policy);
      this.emit('reconnecting', attempt, delay);
      await sleep(delay);
      if (this.#state !== 'reconnecting') return;
      try {
        await this.#open();
        return;
      } catch (error) {
        this.emit('error', error as Error);
      }
    }
  }

  /** Resolves once connected; rejects when closed. */
  async #connected(): Promise<ChannelModel> {
    while (this.#state === 'reconnecting' && this.#ready) await this.#ready;
    if (this.#state === 'closed') throw new ConnectionClosedError('transport is closed');
    if (!this.#model) throw new ConnectionError('transport is not connected');
    return this.#model;
  }

  async close(reason?: Error): Promise<void> {
    if (this.#state === 'closed') return;
    const wasConnected = this.#state === 'connected';
    this.#state = 'closed';
    clearInterval(this.#timeouts);
    this.#markReady?.();
    await Promise.all([...this.#subscriptions].map((s) => s.cancel()));
    this.#subscriptions.clear();
    const error = reason ?? new ConnectionClosedError('transport closed before the publish was confirmed');
    for (const p of [...this.#buffer, ...this.#unconfirmed]) p.reject(error);
    this.#buffer = [];
    this.#unconfirmed.clear();
    await Promise.all([this.#getter, this.#admin, this.#publisher].map((c) => c.close()));
    const model = this.#model;
    this.#model = undefined;
    if (model) await model.close().catch(() => undefined);
    if (wasConnected) this.emit('disconnected', undefined);
  }

  // ---- channels -----------------------------------------------------------------------------

  async #openAdmin(): Promise<Channel> {
    const model = this.#model ?? (await this.#connected());
    const ch = await model.createChannel();
    // A failed declaration closes its channel: the next operation opens a new one.
    ch.on('error', () => undefined);
    return ch;
  }

  async #openGetter(): Promise<Channel> {
    const ch = await (await this.#connected()).createChannel();
    ch.on('error', () => undefined);
    return ch;
  }

  async #openPublisher(): Promise<ConfirmChannel> {
    const model = this.#model ?? (await this.#connected());
    const ch = await model.createConfirmChannel();
    ch.on('error', (e: Error) => this.#channelErrors.set(ch, e));
    ch.on('return', (m: amqplib.Message) => {
      this.emit('returned', {
        message: {
          body: m.content,
          contentType: String(m.properties.contentType ?? ''),
          contentEncoding: String(m.properties.contentEncoding ?? ''),
          headers: m.properties.headers ?? {},
          properties: {},
        },
        exchange: m.fields.exchange,
        routingKey: m.fields.routingKey,
        replyText: String((m.fields as { replyText?: string }).replyText ?? 'NO_ROUTE'),
      });
    });
    return ch;
  }

  /** Run a topology operation, remembering it for replay when `key` is given. */
  async #declare(what: string, op: (ch: Channel) => Promise<unknown>, key?: string): Promise<void> {
    await this.#connected();
    try {
      await op(await this.#admin.get());
    } catch (error) {
      throw amqpError(error, what);
    }
    if (key) {
      this.#topology.delete(key);
      this.#topology.set(key, op);
    }
  }

  // ---- topology -----------------------------------------------------------------------------

  declareExchange(e: ExchangeSpec): Promise<void> {
    return this.#declare(`declare exchange "${e.name}"`, (ch) => ch.assertExchange(e.name, e.type, { durable: e.durable, autoDelete: e.autoDelete, arguments: e.arguments }), `exchange:${e.name}`);
  }

  async declareQueue(q: QueueSpec): Promise<void> {
    await this.#declare(
      `declare queue "${q.name}"`,
      (ch) => ch.assertQueue(q.name, { durable: q.durable, exclusive: q.exclusive, autoDelete: q.autoDelete, arguments: queueArguments(q) }),
      `queue:${q.name}`,
    );
    for (const b of q.bindings) await this.bindQueue(q.name, b.exchange, b.routingKey, b.arguments);
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    return this.#declare(`bind "${queue}" to "${exchange}"`, (ch) => ch.bindQueue(queue, exchange, routingKey, args), `bind:${queue}:${exchange}:${routingKey}:${JSON.stringify(args)}`);
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    this.#topology.delete(`bind:${queue}:${exchange}:${routingKey}:${JSON.stringify(args)}`);
    await this.#declare(`unbind "${queue}" from "${exchange}"`, (ch) => ch.unbindQueue(queue, exchange, routingKey, args));
  }

  bindExchange(destination: string, source: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    return this.#declare(
      `bind exchange "${destination}" to "${source}"`,
      (ch) => ch.bindExchange(destination, source, routingKey, args),
      `xbind:${destination}:${source}:${routingKey}:${JSON.stringify(args)}`,
    );
  }

  async deleteQueue(queue: string): Promise<void> {
    for (const key of [...this.#topology.keys()]) if (key === `queue:${queue}` || key.startsWith(`bind:${queue}:`)) this.#topology.delete(key);
    await this.#declare(`delete queue "${queue}"`, (ch) => ch.deleteQueue(queue));
  }

  async deleteExchange(exchange: string): Promise<void> {
    this.#topology.delete(`exchange:${exchange}`);
    await this.#declare(`delete exchange "${exchange}"`, (ch) => ch.deleteExchange(exchange));
  }

  async purgeQueue(queue: string): Promise<number> {
    let count = 0;
    await this.#declare(`purge queue "${queue}"`, async (ch) => (count = (await ch.purgeQueue(queue)).messageCount));
    return count;
  }

  async checkQueue(queue: string): Promise<QueueStatus> {
    let status: QueueStatus = { name: queue, messageCount: 0, consumerCount: 0 };
    await this.#declare(`check queue "${queue}"`, async (ch) => {
      const r = await ch.checkQueue(queue);
      status = { name: queue, messageCount: r.messageCount, consumerCount: r.consumerCount };
    });
    return status;
  }

  // ---- publishing ---------------------------------------------------------------------------

  publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new ConnectionClosedError('transport is closed'));
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPublish = { message, target, deadline: Date.now() + (target.timeout ?? this.#settings.publishTimeout), resolve, reject };
      if (this.#state !== 'connected') {
        if (this.#buffer.length >= this.#settings.maxBufferedPublishes) {
          reject(new PublishBufferFullError(`not connected and ${this.#buffer.length} publishes are already waiting (maxBufferedPublishes)`));
          return;
        }
        this.#buffer.push(pending);
        return;
      }
      this.#send(pending);
    });
  }

  #send(p: PendingPublish): void {
    const ch = this.#publisher.channel;
    if (!ch || this.#drained) {
      void this.#sendLater(p);
      return;
    }
    this.#unconfirmed.add(p);
    const { message, target } = p;
    const body = Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
    let ok: boolean;
    try {
      holdWrites(ch);
      ok = ch.publish(target.exchange, target.routingKey, body, publishOptions(message, target.mandatory), (err: unknown) => this.#confirmed(p, ch, err));
    } catch (error) {
      this.#unconfirmed.delete(p);
      p.reject(error as Error);
      return;
    }
    // The channel's buffer is full: hold further publishes until it drains.
    if (!ok) this.#drained ??= drainOrClose(ch).finally(() => (this.#drained = undefined));
  }

  async #sendLater(p: PendingPublish): Promise<void> {
    try {
      await this.#drained;
      await this.#publisher.get();
    } catch {
      // Not connected after all: it waits in the buffer for the reconnect.
    }
    if (this.#state === 'connected' && this.#publisher.channel && !this.#drained) this.#send(p);
    else if (this.#state === 'connected' && this.#drained) void this.#sendLater(p);
    else if (this.#state !== 'closed') this.#buffer.push(p);
    else p.reject(new ConnectionClosedError('transport is closed'));
  }

  #confirmed(p: PendingPublish, ch: ConfirmChannel, err: unknown): void {
    if (!this.#unconfirmed.has(p)) return; // already re-buffered after a connection loss
    if (!err) {
      this.#unconfirmed.delete(p);
      return p.resolve();
    }
    if ((err as Error).message === 'message nacked') {
      this.#unconfirmed.delete(p);
      return p.reject(new PublishNackedError(`broker refused the message for "${p.target.exchange}" / "${p.target.routingKey}"`));
    }
    // The channel closed before the confirm. Closed by the broker over this channel (e.g. 404):
    // fail the publish. Closed because the connection went away (320 and friends): it stays
    // unconfirmed, and the connection-loss handler sends it again after the reconnect.
    const channelError = this.#channelErrors.get(ch) as { code?: number } | undefined;
    if (channelError && channelError.code !== undefined && channelError.code < 500 && channelError.code !== 320) {
      this.#unconfirmed.delete(p);
      p.reject(amqpError(channelError, `publish to "${p.target.exchange}"`));
    }
  }

  #expirePublishes(): void {
    const now = Date.now();
    for (const set of [this.#unconfirmed, this.#buffer]) {
      for (const p of set) {
        if (p.deadline > now) continue;
        if (set instanceof Set) set.delete(p);
        p.reject(new TimeoutError(`publish to "${p.target.exchange}" / "${p.target.routingKey}" not confirmed in time`));
      }
    }
    this.#buffer = this.#buffer.filter((p) => p.deadline > now);
  }

  // ---- consuming ----------------------------------------------------------------------------

  async consume(queues: readonly string[], options: ConsumeOptions, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    const model = await this.#connected();
    const subscription = new AmqpSubscription(queues, options, onDelivery, this.options.logger, (e) => this.emit('error', e));
    this.#subscriptions.add(subscription);
    try {
      await subscription.open(model);
    } catch (error) {
      this.#subscriptions.delete(subscription);
      throw amqpError(error, `consume from ${queues.join(', ')}`);
    }
    return {
      consumerTag: subscription.consumerTag,
      cancel: async () => {
        this.#subscriptions.delete(subscription);
        await subscription.cancel();
      },
    };
  }

  async get(queue: string, options: { noAck: boolean }): Promise<Delivery | undefined> {
    const ch = await this.#getter.get();
    let message: amqplib.GetMessage | false;
    try {
      message = await ch.get(queue, { noAck: options.noAck });
    } catch (error) {
      throw amqpError(error, `get from "${queue}"`);
    }
    return message ? toDelivery(queue, message, ch, this.#getter, options.noAck, this.options.logger, () => undefined) : undefined;
  }
}

export const createAmqpTransport = (urls: readonly BrokerUrl[], options: TransportOptions): Transport => new AmqpTransport(urls, options);
