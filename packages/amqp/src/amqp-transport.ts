/**
 * RabbitMQ via amqplib, with what users otherwise add through amqp-connection-manager or rascal:
 * a reconnect state machine (connected → disconnected → reconnecting(attempt, delay) → connected)
 * that replays the topology, re-registers consumers and hands the publisher its new channel. A
 * declaration the broker refuses on replay is reported by name and skipped; the rest of the
 * topology, the consumers and the connection go on. RabbitMQ's flow control (connection.blocked)
 * becomes `blocked` / `unblocked` events, and publishes wait in the publisher's buffer meanwhile.
 * Publishing with confirms, back-pressure and the disconnected buffer: AmqpPublisher.
 */
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { AuthenticationError, backoffDelay, ConnectionClosedError, ConnectionError, Emitter, type BrokerUrl } from '@nori/core';
import {
  assertBodySize,
  delay,
  dial,
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
} from '@nori/core/spi';
import { AmqpDelivery } from './amqp-delivery.js';
import { accessRefused, amqpError } from './amqp-error.js';
import { amqpSettings, connectOptions, heartbeatOf, type AmqpSettings } from './amqp-options.js';
import { AmqpPublisher } from './amqp-publisher.js';
import { AmqpSubscription, type SubscriptionHost } from './amqp-subscription.js';
import { DelayLevels } from './delay-levels.js';
import { LazyChannel } from './lazy-channel.js';
import { watchLoop } from './loop-stall.js';

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

function queueArguments(q: QueueSpec): Record<string, unknown> {
  return {
    ...q.arguments,
    ...(q.expires !== undefined && { 'x-expires': q.expires }),
    ...(q.messageTtl !== undefined && { 'x-message-ttl': q.messageTtl }),
    ...(q.maxLength !== undefined && { 'x-max-length': q.maxLength }),
    ...(q.overflow !== undefined && { 'x-overflow': q.overflow }),
    ...(q.maxPriority !== undefined && { 'x-max-priority': q.maxPriority }),
    ...(q.deadLetterExchange !== undefined && { 'x-dead-letter-exchange': q.deadLetterExchange }),
    ...(q.deadLetterRoutingKey !== undefined && { 'x-dead-letter-routing-key': q.deadLetterRoutingKey }),
  };
}

/** A declaration kept for replay, and the entities it names (so deleting one forgets it). */
interface Declaration {
  readonly what: string;
  readonly queues: readonly string[];
  readonly exchanges: readonly string[];
  readonly op: (ch: Channel) => Promise<unknown>;
}

export class AmqpTransport extends Emitter<TransportEvents> implements Transport {
  readonly capabilities = CAPABILITIES;
  readonly #settings: AmqpSettings;
  #state: State = 'idle';
  #next = 0;
  #model: ChannelModel | undefined;
  readonly #publishing: AmqpPublisher;
  readonly #delays: DelayLevels;
  readonly #admin = new LazyChannel<Channel>(() => this.#openAdmin());
  readonly #getter = new LazyChannel<Channel>(() => this.#openGetter());
  /** Declarations to replay after a reconnect, in the order they were made, by a JSON key. */
  readonly #topology = new Map<string, Declaration>();
  readonly #subscriptions = new Set<AmqpSubscription>();
  readonly #subscriptionHost: SubscriptionHost;
  /** The broker's reason while it blocks this connection's publishes. */
  #blocked: string | undefined;
  #timeouts: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;
  #markReady: (() => void) | undefined;
  readonly #closing = new AbortController();
  /** Stops watching the event loop for stalls (see loop-stall.ts). */
  #unwatch: (() => void) | undefined;
  readonly #stallLimitMs: number;

  constructor(
    private readonly urls: readonly BrokerUrl[],
    private readonly options: TransportOptions,
  ) {
    super(options.logger);
    this.#settings = amqpSettings(options);
    this.#publishing = new AmqpPublisher(
      {
        canSend: () => this.#state === 'connected' && this.#blocked === undefined,
        isClosed: () => this.#state === 'closed',
        blockedReason: () => this.#blocked,
        openChannel: () => this.#openPublisher((model) => model.createChannel()),
        openConfirmChannel: () => this.#openPublisher((model) => model.createConfirmChannel()),
        error: (e) => this.emit('error', e),
      },
      this.#settings,
    );
    this.#delays = new DelayLevels(this, (message, target) => this.#publishing.publish(message, target), this.#settings.delayLevelIdleMs);
    const heartbeat = heartbeatOf(urls[0] as BrokerUrl, options);
    this.#stallLimitMs = heartbeat > 0 ? (heartbeat * 1000) / 2 : Infinity;
    this.#subscriptionHost = {
      stallLimitMs: this.#stallLimitMs,
      logger: options.logger,
      retry: this.#settings.reconnect,
      error: (e) => this.emit('error', e),
      queueExists: (queue) => this.#queueExists(queue),
    };
  }

  // ---- connection state machine -------------------------------------------------------------

  async connect(): Promise<void> {
    if (this.#state === 'closed') throw new ConnectionClosedError('transport is closed');
    if (this.#state !== 'idle') return;
    await this.#open();
    this.#timeouts = setInterval(() => this.#publishing.expire(), 250);
    this.#timeouts.unref();
    this.#unwatch = watchLoop();
  }

  /** Dial the URLs in turn; set up the channels; replay topology and consumers. */
  async #open(): Promise<void> {
    const {
      client: model,
      url,
      next,
    } = await dial(this.urls, this.#next, async (url) => {
      const { connect, socket } = connectOptions(url, this.options);
      try {
        return await amqplib.connect(connect, socket);
      } catch (error) {
        // Retrying with the same credentials cannot help: not a (retryable) ConnectionError.
        throw accessRefused(error) ? new AuthenticationError((error as Error).message, { cause: error }) : error;
      }
    });
    this.#next = next;
    try {
      model.on('error', (e: Error) => this.emit('error', amqpError(e, 'connection')));
      model.on('close', (e?: Error) => this.#lost(model, e && amqpError(e, 'connection lost')));
      model.on('blocked', (reason: string) => {
        this.#blocked = String(reason);
        this.emit('blocked', this.#blocked);
      });
      model.on('unblocked', () => {
        this.#blocked = undefined;
        this.emit('unblocked');
        if (this.#state === 'connected') this.#publishing.flush();
      });
      this.#blocked = undefined;
      this.#model = model;
      await this.#replay();
      for (const s of this.#subscriptions) await s.attach(model);
      if (this.#model !== model) throw new ConnectionError('the connection was lost while replaying the topology');
    } catch (error) {
      if (this.#model === model) this.#model = undefined;
      await model.close().catch(() => undefined);
      throw amqpError(error, 'setting up the connection');
    }
    this.#state = 'connected';
    this.emit('connected', url.masked);
    this.#markReady?.();
    this.#ready = undefined;
    this.#publishing.flush();
  }

  /** Every declaration again; one the broker refuses is reported by name, the rest go on. */
  async #replay(): Promise<void> {
    for (const d of this.#topology.values()) {
      try {
        await d.op(await this.#admin.get());
      } catch (error) {
        this.emit('error', amqpError(error, `replaying ${d.what} after the reconnect`));
      }
    }
  }

  #lost(model: ChannelModel, error: Error | undefined): void {
    if (this.#model !== model || this.#state === 'closed') return;
    this.#model = undefined;
    this.#blocked = undefined; // the next connection is told afresh
    this.#publishing.lost();
    this.#admin.reset();
    this.#getter.reset();
    for (const s of this.#subscriptions) s.detach();
    // Lost while dialling (connect, or a reconnect attempt): that attempt fails and its caller retries.
    if (this.#state !== 'connected') return;
    this.#state = 'reconnecting';
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
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
      const ms = backoffDelay(attempt, policy);
      this.emit('reconnecting', attempt, ms);
      // close() aborts the wait: it returns at once and no timer outlives the transport.
      await delay(ms, this.#closing.signal).catch(() => undefined);
      if (this.#state !== 'reconnecting') return;
      try {
        await this.#open();
        return;
      } catch (error) {
        this.emit('error', amqpError(error, 'reconnecting'));
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
    this.#closing.abort();
    clearInterval(this.#timeouts);
    this.#unwatch?.();
    this.#markReady?.();
    // The broker reads nothing from a blocked connection: no channel close or cancel would be answered.
    const graceful = this.#blocked === undefined;
    await Promise.all([...this.#subscriptions].map((s) => s.cancel(graceful)));
    this.#subscriptions.clear();
    await this.#publishing.close(reason ?? new ConnectionClosedError('transport closed before the publish was confirmed'), graceful);
    await Promise.all([this.#getter, this.#admin].map((c) => (graceful ? c.close() : c.reset())));
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

  async #openPublisher<C extends Channel>(create: (model: ChannelModel) => Promise<C>): Promise<C> {
    const ch = await create(this.#model ?? (await this.#connected()));
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

  /** Run a topology operation, remembering it for replay when it names what it declares. */
  async #declare(what: string, op: (ch: Channel) => Promise<unknown>, replay?: { key: unknown[]; queues?: string[]; exchanges?: string[] }): Promise<void> {
    await this.#connected();
    try {
      await op(await this.#admin.get());
    } catch (error) {
      throw amqpError(error, what);
    }
    if (replay) {
      const key = JSON.stringify(replay.key);
      this.#topology.delete(key);
      this.#topology.set(key, { what, op, queues: replay.queues ?? [], exchanges: replay.exchanges ?? [] });
    }
  }

  /** Forget the declarations that name this queue or exchange (RabbitMQ drops its bindings with it). */
  #forget(kind: 'queues' | 'exchanges', name: string): void {
    for (const [key, d] of this.#topology) if (d[kind].includes(name)) this.#topology.delete(key);
  }

  /** On a channel of its own: the 404 closes it, and must not close one that others share. */
  async #queueExists(queue: string): Promise<boolean> {
    try {
      const ch = await (await this.#connected()).createChannel();
      ch.on('error', () => undefined);
      await ch.checkQueue(queue);
      await ch.close();
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw amqpError(error, `check queue "${queue}"`);
    }
  }

  // ---- topology -----------------------------------------------------------------------------

  declareExchange(e: ExchangeSpec): Promise<void> {
    return this.#declare(
      `declare exchange "${e.name}"`,
      (ch) => ch.assertExchange(e.name, e.type, { durable: e.durable, autoDelete: e.autoDelete, arguments: e.arguments }),
      {
        key: ['exchange', e.name],
        exchanges: [e.name],
      },
    );
  }

  async declareQueue(q: QueueSpec): Promise<void> {
    await this.#declare(
      `declare queue "${q.name}"`,
      (ch) => ch.assertQueue(q.name, { durable: q.durable, exclusive: q.exclusive, autoDelete: q.autoDelete, arguments: queueArguments(q) }),
      { key: ['queue', q.name], queues: [q.name] },
    );
    for (const b of q.bindings) await this.bindQueue(q.name, b.exchange, b.routingKey, b.arguments);
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    return this.#declare(`bind "${queue}" to "${exchange}"`, (ch) => ch.bindQueue(queue, exchange, routingKey, args), {
      key: ['bind', queue, exchange, routingKey, args],
      queues: [queue],
      exchanges: [exchange],
    });
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    this.#topology.delete(JSON.stringify(['bind', queue, exchange, routingKey, args]));
    await this.#declare(`unbind "${queue}" from "${exchange}"`, (ch) => ch.unbindQueue(queue, exchange, routingKey, args));
  }

  bindExchange(destination: string, source: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    return this.#declare(`bind exchange "${destination}" to "${source}"`, (ch) => ch.bindExchange(destination, source, routingKey, args), {
      key: ['xbind', destination, source, routingKey, args],
      exchanges: [destination, source],
    });
  }

  async deleteQueue(queue: string): Promise<void> {
    this.#forget('queues', queue);
    await this.#declare(`delete queue "${queue}"`, (ch) => ch.deleteQueue(queue));
  }

  async deleteExchange(exchange: string): Promise<void> {
    this.#forget('exchanges', exchange);
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

  publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    try {
      assertBodySize(message.body.byteLength, this.#settings.maxBodySize);
    } catch (error) {
      return Promise.reject(error);
    }
    if (target.delay !== undefined && target.delay > 0) return this.#delays.publish(message, target);
    return this.#publishing.publish(message, target);
  }

  // ---- consuming ----------------------------------------------------------------------------

  async consume(queues: readonly string[], options: ConsumeOptions, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    const model = await this.#connected();
    const subscription = new AmqpSubscription(queues, options, onDelivery, this.#subscriptionHost);
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
    let ch: Channel;
    let message: amqplib.GetMessage | false;
    try {
      ch = await this.#getter.get();
      message = await ch.get(queue, { noAck: options.noAck });
    } catch (error) {
      throw amqpError(error, `get from "${queue}"`);
    }
    if (!message) return undefined;
    const source = {
      queue,
      channel: ch,
      slot: this.#getter,
      noAck: options.noAck,
      logger: this.options.logger,
      onSettled: () => undefined,
      stallLimitMs: this.#stallLimitMs,
      acks: undefined,
    };
    return new AmqpDelivery(source, message);
  }
}

export const createAmqpTransport = (urls: readonly BrokerUrl[], options: TransportOptions): Transport => new AmqpTransport(urls, options);
