/**
 * The store contract: the few storage primitives a non-AMQP backend provides. `VirtualTransport`
 * builds exchanges, routing, QoS, leases, dead-lettering and redelivery on top of it, once for
 * Redis, MongoDB and memory.
 *
 * Delivery model: a message is either ready (in its queue, maybe delayed), or in flight under a
 * lease that the consumer renews. `claim` moves ready → in flight atomically; `ack` removes;
 * `restore` moves in flight → ready; `restoreLapsed` brings back in-flight messages whose lease
 * ran out (their consumer died). No step leaves a message in neither place.
 *
 * Fencing: every claim has a token of its own, and ack, renew and restore take tokens, not delivery
 * tags (redelivery keeps the tag). A consumer whose lease lapsed while the message went to another
 * consumer holds a token that matches nothing any more, so its settle changes nothing.
 *
 * Errors: the virtual transport passes every failure of a store call through `classifyError`, so
 * users only see nori's classes (see `StoreErrorClass`).
 */
import type { Envelope } from './envelope.js';
import type { DecodeError } from '../errors.js';
import type { BrokerUrl } from '../url.js';
import type { Arguments, ExchangeSpec, QueueSpec } from '../topology.js';
import type { TransportOptions } from './transport.js';

export interface StoreCapabilities {
  /** Binding arguments are persisted, so headers exchanges can route. */
  readonly headersExchange: boolean;
  readonly priorities: boolean;
  /** The store keeps `expiresAt` and `claim` reports it (the broker drops or dead-letters). */
  readonly messageTtl: boolean;
  readonly queueExpires: boolean;
  readonly maxLength: boolean;
  /** `put` with `readyAt` holds the message out of the queue until then. */
  readonly nativeDelay: boolean;
  /** In-flight state lives in the store, so a killed consumer's messages come back. */
  readonly redeliversOnCrash: boolean;
  readonly processLocal: boolean;
  /**
   * The default of the transport option `maxBodySize` (the largest body a publish stores), where the
   * store needs one below `DEFAULT_MAX_BODY_SIZE` (Redis: one big message stalls the whole server).
   */
  readonly maxBodySize?: number;
}

export interface StoredBinding {
  readonly queue: string;
  readonly routingKey: string;
  readonly arguments: Arguments;
}

export interface PutOptions {
  /**
   * nori's meaning: higher = more urgent, clamped to 0..maxPriority of the queue when this process
   * declared it (else as published, at most 255). Map or clamp further as the store's format needs.
   * Undefined when the message has no priority: it goes where kombu puts such messages (on Redis,
   * the plain list), so no-priority messages of Python and Node are served in arrival order.
   */
  readonly priority: number | undefined;
  /** Epoch ms when a delayed message becomes ready. */
  readonly readyAt?: number;
  /** Epoch ms after which the message is dead (per-message or queue TTL, whichever is sooner). */
  readonly expiresAt?: number;
}

/**
 * What a put did beyond storing, for queues with `maxLength`: each message either went in,
 * pushing the oldest ready messages out (drop-head), or was refused (reject-publish). Stores
 * decide this atomically with the write; a put without a report stored everything and dropped nothing.
 */
export interface PutReport {
  /** Positions in the put's items (0 for `put`) of the messages refused because the queue was full. */
  readonly refused: readonly number[];
  /** Ready messages pushed out of the head, oldest first: the transport dead-letters them. */
  readonly dropped: readonly Envelope[];
}

export interface Claimed {
  readonly queue: string;
  /** Properties.priority already in nori's meaning; delivery_info.redelivered set when it came back. */
  readonly envelope: Envelope;
  /** The delivery tag, unique per message (kombu assigns it at publish: envelope.properties.delivery_tag). */
  readonly tag: string;
  /** This claim's fencing token: what ack, renew and restore take. Unique per claim, never reused. */
  readonly token: string;
  readonly expiresAt?: number;
  /** Deliveries before this one, where the store counts them. */
  readonly deliveryCount?: number;
  /** How many times `restoreLapsed` brought this message back (see `DeliveryInfo.lapses`). */
  readonly lapses?: number;
}

/**
 * A claimed item that is not a readable envelope (not JSON, written by a foreign peer): it is in
 * flight under `token` like any claim, so the transport dead-letters or drops it on its own,
 * with an `error` event, and the rest of its batch is delivered.
 */
export interface Unreadable {
  readonly queue: string;
  readonly token: string;
  /** The stored text, as found. */
  readonly text: string;
  readonly error: DecodeError;
}
export type RestorePosition = 'front' | 'back';

/** Broadcast that bypasses queues (kombu's Redis fanout over PUBLISH): no storage, no acks. */
export interface FanoutChannel {
  publish(exchange: string, routingKey: string, envelope: Envelope): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(exchange: string, onEnvelope: (envelope: Envelope) => void): Promise<() => Promise<void>>;
}

export interface Store {
  readonly capabilities: StoreCapabilities;

  /** Rejects (quickly, within the connect timeout) when the server cannot be reached. */
  connect(): Promise<void>;
  close(): Promise<void>;

  /** Persist exchange declarations where the store shares them between processes. */
  declareExchange(exchange: ExchangeSpec): Promise<void>;
  /** A declaration made by this or (if shared) another process. */
  getExchange(name: string): Promise<ExchangeSpec | undefined>;
  deleteExchange(name: string): Promise<void>;

  /** Record the queue (and its TTL/expiry/max-length settings). Bindings arrive through `bind`. */
  declareQueue(queue: QueueSpec): Promise<void>;
  queueExists(name: string): Promise<boolean>;
  /** Remove the queue, its messages (ready and delayed) and every binding to it. */
  deleteQueue(name: string): Promise<void>;
  bind(exchange: string, binding: StoredBinding): Promise<void>;
  unbind(exchange: string, binding: StoredBinding): Promise<void>;
  bindings(exchange: string): Promise<StoredBinding[]>;

  /** Store a message; a queue with `maxLength` applies its overflow at once (see `PutReport`). */
  put(queue: string, envelope: Envelope, options: PutOptions): Promise<PutReport | void>;
  /**
   * Optional: several messages for one queue, in order, in one round trip. When present the
   * transport gathers the publishes of a tick into one call.
   */
  putMany?(queue: string, items: ReadonlyArray<{ envelope: Envelope; options: PutOptions }>): Promise<PutReport | void>;
  /**
   * Atomically move up to `max` ready messages (priority first, FIFO within a priority, due
   * delayed messages included) into flight with a lease of `leaseMs`. Never blocks.
   */
  claim(queue: string, max: number, leaseMs: number): Promise<Array<Claimed | Unreadable>>;
  /**
   * Wait until a claim on one of `queues` may succeed, `timeoutMs` passes, or `signal` aborts.
   * May resolve early; must not spin.
   */
  wait(queues: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Remove these claims; returns how many were still held (the others' leases were lost). */
  ack(queue: string, tokens: readonly string[]): Promise<number>;
  /** Extend the leases of these claims of one queue (one batched call per queue per tick). */
  renew(queue: string, tokens: readonly string[], leaseMs: number): Promise<void>;
  /**
   * In flight → ready; 'front' is consumed next, 'back' after everything waiting. Marks redelivered.
   * Returns how many were still held and so restored.
   */
  restore(queue: string, tokens: readonly string[], position: RestorePosition): Promise<number>;
  /**
   * Bring back every in-flight message whose lease lapsed, counting one more lapse on each (what
   * `Claimed.lapses` reports at its next claim); returns how many. Safe to run from many processes:
   * each lapse is counted once.
   */
  restoreLapsed(): Promise<number>;
  /**
   * Optional: delete every queue whose expiry (`QueueSpec.expires`) passed unused, whichever process
   * declared it (its owner may have been killed): its messages, its bindings and its registration,
   * as RabbitMQ deletes it. Every connected process's sweep runs it; returns how many. Stores
   * without it delete an expired queue when they come across it, or never.
   */
  forgetExpired?(): Promise<number>;
  purge(queue: string): Promise<number>;
  /** Optional (see `Transport.promoteDelayed`): every delayed message of the queue into it now, at the front, the soonest due first; returns how many. */
  promoteDelayed?(queue: string): Promise<number>;
  /** Ready messages (not delayed, not in flight). */
  size(queue: string): Promise<number>;

  readonly fanout?: FanoutChannel;

  /**
   * Map a failure of one of this store's calls to nori's classes: network loss → `ConnectionError`
   * (retryable); bad credentials → `AuthenticationError`; any other reply of the server (wrong
   * type, out of memory, a write error) → `BrokerRefusedError` carrying the server's reason.
   * `operation` names the call ("publish", "ack", ...) for the message.
   */
  classifyError(error: unknown, operation: string): Error;
}

/**
 * Where a thread finds a store package's `StoreFactory`: the URL of the module (its `import.meta.url`)
 * and the name of the export. The lease keeper's thread opens a store of its own with it, to renew
 * leases while the event loop is blocked. Stores whose state lives in the process (memory) have none.
 */
export interface StoreModule {
  readonly url: string;
  readonly exportName: string;
}

/**
 * What a store package registers: one store per URL; `VirtualTransport` does failover across them.
 * Creating a store must not connect or fail (it is also read for its capabilities); `connect()` does.
 */
export type StoreFactory = (url: BrokerUrl, options: TransportOptions) => Store;
