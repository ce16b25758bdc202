/**
 * AMQP semantics over a Store: exchanges and routing, prefetch, leases renewed while handlers run,
 * the restore sweep for lapsed leases, dead-lettering, per-message TTL, and failover across URLs.
 * Redis, MongoDB and memory get all of this by implementing the store contract.
 */
import { randomUUID } from 'node:crypto';
import { Emitter } from '../../emitter.js';
import { assertStorableHeaders, toEnvelope, type Envelope } from '../envelope.js';
import {
  ConnectionClosedError,
  ConnectionError,
  DecodeError,
  LeaseLostError,
  MessageTooLargeError,
  NotFoundError,
  QueueFullError,
  UnsupportedFeatureError,
} from '../../errors.js';
import { DEFAULT_MAX_BODY_SIZE } from '../../payload.js';
import { route } from '../routing.js';
import type { Claimed, PutOptions, PutReport, StoreFactory, Unreadable } from '../store.js';
import type { ExchangeSpec, ExchangeType, QueueSpec } from '../../topology.js';
import type {
  ConsumeOptions,
  Delivery,
  Headers,
  OutgoingMessage,
  PublishTarget,
  QueueStatus,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportEvents,
  TransportFactory,
  TransportOptions,
} from '../transport.js';
import type { BrokerUrl } from '../../url.js';
import { dial } from '../dial.js';
import { numberOption } from '../options.js';
import { StoreBoundary } from './store-boundary.js';
import { TickBatcher } from './tick-batcher.js';
import { VirtualDelivery, type DeliveryHost } from './virtual-delivery.js';
import { VirtualSubscription, type SubscriptionHost } from './virtual-subscription.js';

export interface VirtualTransportOptions {
  /** How long a claimed message stays in flight without renewal before it comes back. */
  leaseMs: number;
  /** Longest single blocking wait on the store. */
  waitMs: number;
  /** How often lapsed leases are swept back to their queues. */
  restoreIntervalMs: number;
  /** Largest body a publish stores, in bytes (`maxBodySize`; default 128 MiB, as RabbitMQ). */
  maxBodySize: number;
}

export function virtualOptions(transportOptions: Record<string, unknown>): VirtualTransportOptions {
  const leaseMs = numberOption(transportOptions, 'leaseMs', 30_000, 1);
  return {
    leaseMs,
    waitMs: numberOption(transportOptions, 'waitMs', 5_000, 1),
    restoreIntervalMs: numberOption(transportOptions, 'restoreIntervalMs', Math.max(250, Math.min(leaseMs / 2, 10_000)), 1),
    maxBodySize: numberOption(transportOptions, 'maxBodySize', DEFAULT_MAX_BODY_SIZE, 1),
  };
}

/** The transport factory for a store package: `registerTransport(['redis'], virtualTransport(createRedisStore))`. */
export function virtualTransport(createStore: StoreFactory): TransportFactory {
  return (urls, options) => new VirtualTransport(urls, options, createStore);
}

const ALL_TYPES: readonly ExchangeType[] = ['direct', 'topic', 'fanout', 'headers'];

/** The shorter of a message's own TTL and its queue's, ignoring either when unset or not a number. */
function shorterTtl(perMessage: number | undefined, perQueue: number | undefined): number | undefined {
  const a = perMessage !== undefined && Number.isFinite(perMessage) ? perMessage : undefined;
  const b = perQueue !== undefined && Number.isFinite(perQueue) ? perQueue : undefined;
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function leaseLost(queue: string, lost: number, what: string): LeaseLostError {
  return new LeaseLostError(
    `${what} of ${lost} message(s) of queue "${queue}" came after the lease was lost (it lapsed and the message went back to the queue, ` +
      'maybe to another consumer): ignored. A handler that blocks the event loop longer than leaseMs may run twice; raise leaseMs.',
  );
}

export class VirtualTransport extends Emitter<TransportEvents> implements Transport {
  readonly capabilities: TransportCapabilities;
  readonly #options: VirtualTransportOptions;
  #store: StoreBoundary;
  #connected = false;
  #closed = false;
  #next = 0;
  readonly #exchanges = new Map<string, ExchangeSpec>();
  readonly #queues = new Map<string, QueueSpec>();
  /** The queue of each claim in flight, by claim token. */
  readonly #inFlight = new Map<string, string>();
  readonly #subscriptions = new Set<VirtualSubscription>();
  readonly #acks: TickBatcher<string>;
  readonly #puts: TickBatcher<{ envelope: Envelope; options: PutOptions }>;
  #renewTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly urls: readonly BrokerUrl[],
    private readonly transportOptions: TransportOptions,
    private readonly createStore: StoreFactory,
  ) {
    super(transportOptions.logger);
    this.#options = virtualOptions(transportOptions.transportOptions);
    this.#store = new StoreBoundary(createStore(urls[0] as BrokerUrl, transportOptions));
    const c = this.#store.capabilities;
    this.capabilities = {
      exchangeTypes: c.headersExchange ? ALL_TYPES : ALL_TYPES.filter((t) => t !== 'headers'),
      exchangeBindings: false,
      priorities: c.priorities,
      messageTtl: c.messageTtl,
      queueExpires: c.queueExpires,
      maxLength: c.maxLength,
      deadLetter: true,
      confirms: true,
      nativeDelay: c.nativeDelay,
      mandatory: true,
      redeliversOnCrash: c.redeliversOnCrash,
      processLocal: c.processLocal,
    };
    this.#acks = new TickBatcher((queue, tokens) => this.#settled(queue, tokens.length, this.#store.ack(queue, tokens), 'ack'));
    this.#puts = new TickBatcher(async (queue, items) => this.#overflowed(queue, items.length, await this.#store.putMany(queue, items)));
  }

  async connect(): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError('transport is closed');
    if (this.#connected) return;
    const { client, url, next } = await dial(this.urls, this.#next, async (url, index) => {
      // The store made for the first URL in the constructor serves the first dial.
      const store = index === 0 && this.#next === 0 ? this.#store : new StoreBoundary(this.createStore(url, this.transportOptions));
      try {
        await store.connect();
      } catch (error) {
        await store.close().catch(() => undefined);
        throw error;
      }
      return store;
    });
    this.#store = client;
    this.#next = next;
    this.#connected = true;
    this.#startTimers();
    this.emit('connected', url.masked);
  }

  /**
   * A full queue's overflow, after the put: the dropped heads go to the dead-letter exchange
   * (before the publish resolves, as RabbitMQ's drop-head does at once); the refused publishes fail.
   */
  async #overflowed(queue: string, count: number, report: PutReport): Promise<Array<Error | undefined>> {
    for (const envelope of report.dropped) {
      await this.#deadLetter(queue, envelope, 'maxlen').catch((error: unknown) => this.emit('error', error as Error));
    }
    const refused = new Set(report.refused);
    const limit = this.#queues.get(queue)?.maxLength;
    return Array.from({ length: count }, (_, i) =>
      refused.has(i)
        ? new QueueFullError(`queue "${queue}" is full (maxLength ${limit ?? 'declared elsewhere'}, overflow reject-publish): the message was not stored`)
        : undefined,
    );
  }

  /** Report settles that found their claim gone (the lease lapsed and the message moved on). */
  async #settled(queue: string, count: number, held: Promise<number>, what: string): Promise<void> {
    const lost = count - (await held);
    if (lost > 0) this.emit('error', leaseLost(queue, lost, what));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renewTimer);
    clearInterval(this.#sweepTimer);
    await Promise.all([...this.#subscriptions].map((s) => s.cancel()));
    if (this.#connected) {
      // Unsettled messages go back first in line, as a closing AMQP channel returns its unacked.
      const byQueue = this.#inFlightByQueue();
      this.#inFlight.clear();
      for (const [queue, tokens] of byQueue) {
        await this.#settled(queue, tokens.length, this.#store.restore(queue, tokens, 'front'), 'return on close').catch((e: unknown) =>
          this.emit('error', e as Error),
        );
      }
    }
    this.#connected = false;
    await this.#store.close();
    this.emit('disconnected', undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ConnectionClosedError('transport is closed');
    if (!this.#connected) throw new ConnectionError('transport is not connected');
  }

  #startTimers(): void {
    const { leaseMs, restoreIntervalMs } = this.#options;
    this.#renewTimer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.#sweepTimer = setInterval(() => void this.#sweep(), restoreIntervalMs);
    this.#renewTimer.unref();
    this.#sweepTimer.unref();
  }

  #inFlightByQueue(): Map<string, string[]> {
    const byQueue = new Map<string, string[]>();
    for (const [token, queue] of this.#inFlight) {
      const tokens = byQueue.get(queue);
      if (tokens) tokens.push(token);
      else byQueue.set(queue, [token]);
    }
    return byQueue;
  }

  async #renew(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    try {
      await Promise.all([...this.#inFlightByQueue()].map(([queue, tokens]) => this.#store.renew(queue, tokens, this.#options.leaseMs)));
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  async #sweep(): Promise<void> {
    try {
      await this.#store.restoreLapsed();
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  // ---- topology -------------------------------------------------------------------------

  async declareExchange(exchange: ExchangeSpec): Promise<void> {
    this.#assertOpen();
    if (!this.capabilities.exchangeTypes.includes(exchange.type)) {
      throw new UnsupportedFeatureError(
        `exchange "${exchange.name}": this transport has no ${exchange.type} exchanges (it has ${this.capabilities.exchangeTypes.join(', ')})`,
      );
    }
    this.#exchanges.set(exchange.name, exchange);
    await this.#store.declareExchange(exchange);
  }

  async declareQueue(queue: QueueSpec): Promise<void> {
    this.#assertOpen();
    const c = this.capabilities;
    const missing = [
      queue.maxLength !== undefined && !c.maxLength && 'maxLength',
      queue.expires !== undefined && !c.queueExpires && 'expires',
      queue.messageTtl !== undefined && !c.messageTtl && 'messageTtl',
      queue.maxPriority !== undefined && !c.priorities && 'maxPriority',
    ].filter((x): x is string => typeof x === 'string');
    if (missing.length > 0) throw new UnsupportedFeatureError(`queue "${queue.name}": this transport does not support ${missing.join(', ')}`);
    this.#queues.set(queue.name, queue);
    await this.#store.declareQueue(queue);
    for (const b of queue.bindings) await this.bindQueue(queue.name, b.exchange, b.routingKey, b.arguments);
  }

  async bindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    this.#assertOpen();
    await this.#store.bind(exchange, { queue, routingKey, arguments: args });
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, unknown> = {}): Promise<void> {
    this.#assertOpen();
    await this.#store.unbind(exchange, { queue, routingKey, arguments: args });
  }

  async deleteQueue(queue: string): Promise<void> {
    this.#assertOpen();
    this.#queues.delete(queue);
    await this.#store.deleteQueue(queue);
  }

  async deleteExchange(exchange: string): Promise<void> {
    this.#assertOpen();
    this.#exchanges.delete(exchange);
    await this.#store.deleteExchange(exchange);
  }

  async purgeQueue(queue: string): Promise<number> {
    this.#assertOpen();
    return this.#store.purge(queue);
  }

  async promoteDelayed(queue: string): Promise<number> {
    this.#assertOpen();
    return this.#store.promoteDelayed(queue);
  }

  async checkQueue(queue: string): Promise<QueueStatus> {
    this.#assertOpen();
    if (!this.#queues.has(queue) && !(await this.#store.queueExists(queue))) {
      throw new NotFoundError(`queue "${queue}" does not exist`);
    }
    const consumerCount = [...this.#subscriptions].filter((s) => s.queues.includes(queue)).length;
    return { name: queue, messageCount: await this.#store.size(queue), consumerCount };
  }

  // ---- publishing -----------------------------------------------------------------------

  async #exchangeType(name: string): Promise<ExchangeType> {
    const known = this.#exchanges.get(name) ?? (await this.#store.getExchange(name));
    if (known) this.#exchanges.set(name, known);
    // kombu treats an exchange it has not seen declared as direct.
    return known?.type ?? 'direct';
  }

  /** Not async: a publish to the default exchange returns the store's promise directly (hot path). */
  publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    try {
      this.#assertOpen();
      if (target.delay !== undefined && target.delay > 0 && !this.capabilities.nativeDelay) {
        throw new UnsupportedFeatureError('this transport cannot delay messages (no nativeDelay capability)');
      }
      if (message.properties.expiration !== undefined && !this.capabilities.messageTtl) {
        throw new UnsupportedFeatureError('this transport cannot expire messages (no messageTtl capability)');
      }
      assertStorableHeaders(message.headers);
      if (message.body.byteLength > this.#options.maxBodySize) {
        throw new MessageTooLargeError(
          `body of ${message.body.byteLength} bytes is over the limit of ${this.#options.maxBodySize} (transport option maxBodySize)`,
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const envelope = toEnvelope(message, target.exchange, target.routingKey, randomUUID());
    const readyAt = target.delay !== undefined && target.delay > 0 ? Date.now() + target.delay : undefined;
    if (target.exchange === '') return this.#put(target.routingKey, envelope, readyAt);
    return this.#route(target.exchange, target.routingKey, envelope, readyAt).then((routed) => {
      if (!routed && target.mandatory) {
        this.emit('returned', { message, exchange: target.exchange, routingKey: target.routingKey, replyText: 'NO_ROUTE' });
      }
    });
  }

  /** Deliver an envelope through an exchange; false when no queue took it. */
  async #route(exchange: string, routingKey: string, envelope: Envelope, readyAt: number | undefined): Promise<boolean> {
    if (exchange === '') {
      await this.#put(routingKey, envelope, readyAt);
      return true;
    }
    const type = await this.#exchangeType(exchange);
    const fanout = this.#store.fanout;
    if (type === 'fanout' && fanout) {
      await fanout.publish(exchange, routingKey, envelope);
      return true;
    }
    const queues = route(type, await this.#store.bindings(exchange), routingKey, envelope.headers);
    // Each copy gets its own delivery tag: in-flight bookkeeping (Redis `unacked`) is keyed by tag.
    await Promise.all(
      queues.map((q, i) => this.#put(q, i === 0 ? envelope : { ...envelope, properties: { ...envelope.properties, delivery_tag: randomUUID() } }, readyAt)),
    );
    return queues.length > 0;
  }

  #put(queue: string, envelope: Envelope, readyAt: number | undefined): Promise<void> {
    const spec = this.#queues.get(queue);
    const published = envelope.properties.priority;
    // No priority stays none: the store puts it where kombu puts such messages.
    let priority: number | undefined;
    if (typeof published === 'number') {
      const requested = Math.max(0, Math.min(255, Math.trunc(published) || 0));
      priority = spec === undefined ? requested : Math.min(requested, spec.maxPriority ?? 0);
    }
    const stored = priority === published ? envelope : { ...envelope, properties: { ...envelope.properties, priority } };
    // Written field by field, not spread: this runs once per published message.
    const options: { priority: number | undefined; readyAt?: number; expiresAt?: number } = { priority };
    if (readyAt !== undefined) options.readyAt = readyAt;
    const ttl = shorterTtl(envelope.properties.expiration ? Number(envelope.properties.expiration) : undefined, spec?.messageTtl);
    if (ttl !== undefined) options.expiresAt = (readyAt ?? Date.now()) + ttl;
    return this.#puts.add(queue, { envelope: stored, options });
  }

  // ---- consuming ------------------------------------------------------------------------

  async consume(queues: readonly string[], options: ConsumeOptions, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    this.#assertOpen();
    const subscription = new VirtualSubscription(this.#host, queues, options, onDelivery);
    this.#subscriptions.add(subscription);
    await subscription.start();
    const cancel = subscription.cancel.bind(subscription);
    return {
      consumerTag: subscription.consumerTag,
      cancel: async () => {
        this.#subscriptions.delete(subscription);
        await cancel();
      },
    };
  }

  async get(queue: string, options: { noAck: boolean }): Promise<Delivery | undefined> {
    this.#assertOpen();
    const [delivery] = await this.#claim(queue, 1, { prefetch: 1, noAck: options.noAck, consumerTag: '' }, () => undefined);
    return delivery;
  }

  readonly #host: SubscriptionHost = {
    claim: (queue, max, options, onSettled) => this.#claim(queue, max, options, onSettled),
    wait: (queues, signal) => this.#store.wait(queues, this.#options.waitMs, signal),
    subscribeBroadcasts: (queues, options, deliver) => this.#subscribeBroadcasts(queues, options, deliver),
    reportError: (error) => this.emit('error', error as Error),
  };

  async #claim(queue: string, max: number, options: ConsumeOptions, onSettled: () => void): Promise<Delivery[]> {
    this.#assertOpen();
    const deliveries: Delivery[] = [];
    // Expired and unreadable messages are dropped (or dead-lettered) here and do not count, so claim again.
    while (deliveries.length < max) {
      const claimed = await this.#store.claim(queue, max - deliveries.length, this.#options.leaseMs);
      if (claimed.length === 0) break;
      const now = Date.now();
      for (const c of claimed) {
        if ('error' in c) {
          await this.#discard(c, c.error, () => this.#deadLetterText(c));
          continue;
        }
        if (c.expiresAt !== undefined && c.expiresAt <= now) {
          await this.#discard(c, undefined, () => this.#deadLetter(c.queue, c.envelope, 'expired'));
          continue;
        }
        // Built before the message counts as in flight: one message with a bad property must not
        // take its batch down with it.
        let delivery: Delivery;
        try {
          delivery = this.#delivery(c, options, onSettled);
        } catch (error) {
          await this.#discard(c, error as Error, () => this.#deadLetter(c.queue, c.envelope, 'rejected'));
          continue;
        }
        if (options.noAck) await this.#store.ack(c.queue, [c.token]);
        else this.#inFlight.set(c.token, c.queue);
        deliveries.push(delivery);
      }
    }
    return deliveries;
  }

  /**
   * Take one claimed message out of the queue on its own: dead-letter it (where the queue has a
   * dead-letter exchange), then remove its claim; `error`, when given, is reported. A failure
   * leaves the message in flight, so it comes back when its lease lapses.
   */
  async #discard(claimed: Claimed | Unreadable, error: Error | undefined, deadLetter: () => Promise<void>): Promise<void> {
    try {
      if (error) {
        const tag = 'tag' in claimed ? ` ${claimed.tag}` : '';
        this.emit('error', new DecodeError(`queue "${claimed.queue}": message${tag} cannot be delivered and was rejected: ${error.message}`, { cause: error }));
      }
      await deadLetter();
      await this.#store.ack(claimed.queue, [claimed.token]);
    } catch (failure) {
      this.emit('error', failure as Error);
    }
  }

  #delivery(claimed: Claimed, options: ConsumeOptions, onSettled: () => void): Delivery {
    return new VirtualDelivery(this.#deliveryHost, claimed, options.noAck, options.consumerTag, onSettled);
  }

  readonly #deliveryHost: DeliveryHost = {
    settle: (action, claimed) => {
      const { queue, token } = claimed;
      this.#inFlight.delete(token);
      switch (action) {
        case 'ack':
          return this.#acks.add(queue, token);
        case 'reject':
          return this.#deadLetter(queue, claimed.envelope, 'rejected').then(() => this.#acks.add(queue, token));
        case 'requeue':
          return this.#settled(queue, 1, this.#store.restore(queue, [token], 'back'), 'requeue');
        case 'release':
          return this.#settled(queue, 1, this.#store.restore(queue, [token], 'front'), 'release');
      }
    },
  };

  /** An unreadable stored item goes to the dead-letter exchange as it was found, as raw bytes. */
  async #deadLetterText(item: Unreadable): Promise<void> {
    const message: OutgoingMessage = {
      body: Buffer.from(item.text, 'utf8'),
      contentType: 'application/data',
      contentEncoding: 'binary',
      headers: {},
      properties: {},
    };
    await this.#deadLetter(item.queue, toEnvelope(message, '', item.queue, item.token), 'rejected');
  }

  /** Route a copy to the queue's dead-letter exchange, as RabbitMQ does (with an `x-death` entry). */
  async #deadLetter(queue: string, original: Envelope, reason: 'rejected' | 'expired' | 'maxlen'): Promise<void> {
    const spec = this.#queues.get(queue);
    if (spec?.deadLetterExchange === undefined) return;
    const info = original.properties.delivery_info;
    const routingKey = spec.deadLetterRoutingKey ?? info.routing_key;
    const death = { queue, reason, exchange: info.exchange, 'routing-keys': [info.routing_key], count: 1, time: Math.floor(Date.now() / 1000) };
    const headers: Headers = { ...original.headers, 'x-death': [death, ...(Array.isArray(original.headers['x-death']) ? original.headers['x-death'] : [])] };
    const { expiration: _expired, ...properties } = original.properties;
    const envelope: Envelope = {
      ...original,
      headers,
      properties: { ...properties, delivery_tag: randomUUID(), delivery_info: { exchange: spec.deadLetterExchange, routing_key: routingKey } },
    };
    await this.#route(spec.deadLetterExchange, routingKey, envelope, undefined);
  }

  async #subscribeBroadcasts(queues: readonly string[], options: ConsumeOptions, deliver: (d: Delivery) => void): Promise<() => Promise<void>> {
    const fanout = this.#store.fanout;
    if (!fanout) return async () => undefined;
    const unsubscribes: Array<() => Promise<void>> = [];
    for (const queue of queues) {
      for (const binding of this.#queues.get(queue)?.bindings ?? []) {
        if ((await this.#exchangeType(binding.exchange)) !== 'fanout') continue;
        unsubscribes.push(
          await fanout.subscribe(binding.exchange, (envelope) => {
            // Broadcasts are not stored, so there is nothing to settle in the store.
            const tag = envelope.properties.delivery_tag;
            const claimed: Claimed = { queue, envelope, tag, token: tag };
            deliver(this.#delivery(claimed, { ...options, noAck: true }, () => undefined));
          }),
        );
      }
    }
    return async () => {
      await Promise.all(unsubscribes.map((u) => u()));
    };
  }
}
