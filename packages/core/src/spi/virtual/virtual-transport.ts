/**
 * AMQP semantics over a Store: exchanges and routing, prefetch, leases renewed while handlers run,
 * the restore sweep for lapsed leases, dead-lettering, per-message TTL, and failover across URLs.
 * Redis, MongoDB and memory get all of this by implementing the store contract.
 */
import { randomUUID } from 'node:crypto';
import { Emitter } from '../../emitter.js';
import { assertStorableHeaders, toEnvelope, type Envelope } from '../envelope.js';
import { ConnectionClosedError, ConnectionError, DecodeError, LeaseLostError, NotFoundError, QueueFullError, UnsupportedFeatureError } from '../../errors.js';
import { MAX_TIMER_MS } from '../../long-timer.js';
import { assertBodySize, DEFAULT_MAX_BODY_SIZE } from '../../payload.js';
import { route } from '../routing.js';
import type { Claimed, PutOptions, PutReport, StoreFactory, StoreModule, Unreadable } from '../store.js';
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
import { byQueue, LeaseKeeper } from './lease-keeper.js';
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
  /** Largest body a publish stores, in bytes (`maxBodySize`; default the store's, else 128 MiB as RabbitMQ). */
  maxBodySize: number;
  /**
   * How long the lease keeper renews the leases of an event loop that does not turn (a handler
   * blocking it) before it takes the loop for stuck and gives them up. Default 30 minutes
   * (RabbitMQ's `consumer_timeout`).
   */
  maxBlockedMs: number;
}

/** See `maxBlockedMs`. */
export const DEFAULT_MAX_BLOCKED_MS = 30 * 60_000;

export function virtualOptions(transportOptions: Record<string, unknown>, defaultMaxBodySize = DEFAULT_MAX_BODY_SIZE): VirtualTransportOptions {
  const leaseMs = numberOption(transportOptions, 'leaseMs', 30_000, 1);
  return {
    leaseMs,
    waitMs: numberOption(transportOptions, 'waitMs', 5_000, 1),
    restoreIntervalMs: numberOption(transportOptions, 'restoreIntervalMs', Math.max(250, Math.min(leaseMs / 2, 10_000)), 1),
    maxBodySize: numberOption(transportOptions, 'maxBodySize', defaultMaxBodySize, 1),
    maxBlockedMs: numberOption(transportOptions, 'maxBlockedMs', DEFAULT_MAX_BLOCKED_MS, 1),
  };
}

/**
 * The transport factory for a store package:
 * `registerTransport(['redis'], virtualTransport(createRedisStore, { url: import.meta.url, exportName: 'createRedisStore' }))`.
 * `storeModule` is where the lease keeper's thread finds the same factory (omit it for a store whose
 * state lives in the process): without it, leases are renewed from the event loop alone.
 */
export function virtualTransport(createStore: StoreFactory, storeModule?: StoreModule): TransportFactory {
  return (urls, options) => new VirtualTransport(urls, options, createStore, storeModule);
}

/** A claimed batch in flight: shared by its claims (this is built per claim, not per message). */
interface Held {
  readonly queue: string;
  readonly claimedAt: number;
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
  /** The claims in flight, by claim token. */
  readonly #inFlight = new Map<string, Held>();
  readonly #keeper: LeaseKeeper;
  /** The URL the store is connected to: the lease keeper's thread connects there too. */
  #url: BrokerUrl | undefined;
  /** The keeper's last give-up the loop has acted on (see #forgetGivenUp). */
  #givenUp = 0;
  readonly #subscriptions = new Set<VirtualSubscription>();
  readonly #acks: TickBatcher<string>;
  readonly #puts: TickBatcher<{ envelope: Envelope; options: PutOptions }>;
  #renewTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly urls: readonly BrokerUrl[],
    private readonly transportOptions: TransportOptions,
    private readonly createStore: StoreFactory,
    storeModule?: StoreModule,
  ) {
    super(transportOptions.logger);
    this.#store = new StoreBoundary(createStore(urls[0] as BrokerUrl, transportOptions));
    this.#options = virtualOptions(transportOptions.transportOptions, this.#store.capabilities.maxBodySize);
    const { logger: _logger, ...cloneable } = transportOptions;
    this.#keeper = new LeaseKeeper(
      () =>
        storeModule &&
        this.#url && {
          store: storeModule,
          url: this.#url,
          options: cloneable,
          leaseMs: this.#options.leaseMs,
          intervalMs: this.#renewIntervalMs,
          maxBlockedMs: this.#options.maxBlockedMs,
        },
      {
        ready: () => this.logger?.debug({ url: this.#url?.masked }, 'nori transport: lease keeper connected'),
        failed: (why) =>
          this.emit(
            'error',
            new ConnectionError(
              `lease keeper: ${why}. Leases are renewed from the event loop alone: a handler that blocks it longer than leaseMs ` +
                `(${this.#options.leaseMs} ms) may lose its message, and this consumer's prefetched ones, to another consumer`,
            ),
          ),
        gaveUp: (claims, blockedMs) =>
          this.emit(
            'error',
            new LeaseLostError(
              `the event loop was blocked for ${blockedMs} ms, past maxBlockedMs (${this.#options.maxBlockedMs} ms): the leases of ` +
                `${claims} message(s) were given up, they go to other consumers, and those not started here will not be`,
            ),
          ),
      },
    );
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
    this.#acks = new TickBatcher((queue, tokens) => this.#settled(queue, tokens.length, this.#store.ack(queue, tokens), 'ack'), { perItem: false });
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
    this.#url = url;
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
    await this.#keeper.close();
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

  /** Intervals are clamped to what Node's timers honour (see long-timer.ts): renewing more often is harmless. */
  get #renewIntervalMs(): number {
    return Math.min(MAX_TIMER_MS, Math.max(50, Math.floor(this.#options.leaseMs / 3)));
  }

  #startTimers(): void {
    this.#renewTimer = setInterval(() => void this.#renew(), this.#renewIntervalMs);
    this.#sweepTimer = setInterval(() => void this.#sweep(), Math.min(MAX_TIMER_MS, this.#options.restoreIntervalMs));
    this.#renewTimer.unref();
    this.#sweepTimer.unref();
  }

  #inFlightByQueue(): Map<string, string[]> {
    return byQueue(Array.from(this.#inFlight, ([token, held]) => [token, held.queue] as const));
  }

  /** The loop's heartbeat, and its renewal while the lease keeper's thread does not renew. */
  async #renew(): Promise<void> {
    this.#keeper.beat();
    this.#forgetGivenUp();
    if (this.#inFlight.size === 0 || this.#keeper.renews) return;
    try {
      await Promise.all([...this.#inFlightByQueue()].map(([queue, tokens]) => this.#store.renew(queue, tokens, this.#options.leaseMs)));
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  /**
   * The keeper gave up the leases of claims made before the loop got stuck: they lapse and go to
   * other consumers, so this loop stops renewing them (a renew before the sweep would take one back).
   */
  #forgetGivenUp(): void {
    const gaveUpAt = this.#keeper.gaveUpAt;
    if (gaveUpAt === this.#givenUp) return;
    this.#givenUp = gaveUpAt;
    for (const [token, held] of this.#inFlight) if (held.claimedAt < gaveUpAt) this.#inFlight.delete(token);
  }

  /**
   * Renew first: a sweep right after the loop was blocked must not take this process's own claims.
   * Then expired queues: whoever sweeps notices them, so a killed owner leaves nothing behind.
   */
  async #sweep(): Promise<void> {
    try {
      await this.#renew();
      await this.#store.restoreLapsed();
      await this.#store.forgetExpired();
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
      assertBodySize(message.body.byteLength, this.#options.maxBodySize);
    } catch (error) {
      return Promise.reject(error);
    }
    const envelope = toEnvelope(message, target.exchange, target.routingKey, randomUUID());
    const readyAt = target.delay !== undefined && target.delay > 0 ? Date.now() + target.delay : undefined;
    if (target.exchange === '') return this.#put(target.routingKey, envelope, readyAt);
    // A delayed message cannot wait on pub/sub: it is stored, due later, in every bound queue.
    return this.#route(target.exchange, target.routingKey, envelope, readyAt, readyAt === undefined).then((routed) => {
      if (!routed && target.mandatory) {
        this.emit('returned', { message, exchange: target.exchange, routingKey: target.routingKey, replyText: 'NO_ROUTE' });
      }
    });
  }

  /**
   * Deliver an envelope through an exchange; false when no queue took it. `broadcast`: a fanout
   * exchange may go over the store's pub/sub (kombu's live fanout on Redis, which only reaches the
   * subscribers listening at that moment); without it, a copy is stored in every bound queue, as
   * dead letters and delayed messages must be: nobody may be listening when they are due.
   */
  async #route(exchange: string, routingKey: string, envelope: Envelope, readyAt: number | undefined, broadcast: boolean): Promise<boolean> {
    if (exchange === '') {
      await this.#put(routingKey, envelope, readyAt);
      return true;
    }
    const type = await this.#exchangeType(exchange);
    const fanout = this.#store.fanout;
    if (type === 'fanout' && fanout && broadcast) {
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
    // Its thread connects meanwhile: a consumer typically waits a while for its first message.
    if (!options.noAck) this.#keeper.start();
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
    // Expired and unreadable messages are dropped (or dead-lettered) here and do not count, so claim
    // again, unless the store gave fewer than asked: the queue was empty then (a claim a message).
    for (let asked = max; deliveries.length < max; asked = max - deliveries.length) {
      const claimed = await this.#store.claim(queue, asked, this.#options.leaseMs);
      if (claimed.length === 0) break;
      const now = Date.now();
      const held: Held = { queue, claimedAt: now };
      const tokens: string[] = [];
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
          delivery = this.#delivery(c, options, onSettled, now);
        } catch (error) {
          await this.#discard(c, error as Error, () => this.#deadLetter(c.queue, c.envelope, 'rejected'));
          continue;
        }
        if (options.noAck) await this.#store.ack(c.queue, [c.token]);
        else {
          this.#inFlight.set(c.token, held);
          tokens.push(c.token);
        }
        deliveries.push(delivery);
      }
      if (tokens.length > 0) this.#keeper.hold(queue, tokens);
      if (claimed.length < asked) break;
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

  #delivery(claimed: Claimed, options: ConsumeOptions, onSettled: () => void, claimedAt: number): Delivery {
    return new VirtualDelivery(this.#deliveryHost, claimed, options.noAck, options.consumerTag, onSettled, claimedAt);
  }

  readonly #deliveryHost: DeliveryHost = {
    lost: (claimedAt) => claimedAt < this.#keeper.gaveUpAt,
    settle: (action, claimed) => {
      const { queue, token } = claimed;
      this.#inFlight.delete(token);
      this.#keeper.drop(token);
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
    await this.#route(spec.deadLetterExchange, routingKey, envelope, undefined, false);
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
            deliver(this.#delivery(claimed, { ...options, noAck: true }, () => undefined, Date.now()));
          }),
        );
      }
    }
    return async () => {
      await Promise.all(unsubscribes.map((u) => u()));
    };
  }
}
