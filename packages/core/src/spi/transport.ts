/**
 * The transport contract (SPI). AMQP implements it natively; Redis, MongoDB and memory implement
 * the smaller `Store` contract and get this one from `VirtualTransport`.
 *
 * Everything here is bytes and plain data: serialization, compression and the accept list are
 * handled above, in `Producer` and `Message`.
 */
import type { BrokerUrl } from '../url.js';
import type { ExchangeSpec, ExchangeType, QueueSpec } from '../topology.js';
import type { Logger } from '../logger.js';

export type Headers = Record<string, unknown>;

/** What a transport can do. The conformance suite reads this; a missing capability is an error. */
export interface TransportCapabilities {
  readonly exchangeTypes: readonly ExchangeType[];
  /** Exchange-to-exchange bindings. */
  readonly exchangeBindings: boolean;
  /** Per-message priority, higher first (queue declared with maxPriority). */
  readonly priorities: boolean;
  /** Per-message `expiration` and queue `messageTtl`. */
  readonly messageTtl: boolean;
  /** Queue `expires`. */
  readonly queueExpires: boolean;
  /** Queue `maxLength`. */
  readonly maxLength: boolean;
  /** Dead-letter exchange on reject and expiry. */
  readonly deadLetter: boolean;
  /** `publish()` resolves only once the broker has the message. */
  readonly confirms: boolean;
  /** Publish with `delay` keeps the message out of the queue until due, never in flight. */
  readonly nativeDelay: boolean;
  /** Unroutable `mandatory` messages come back as a `returned` event. */
  readonly mandatory: boolean;
  /** In-flight messages of a killed consumer come back to the queue by themselves. */
  readonly redeliversOnCrash: boolean;
  /** State is shared only inside one process (memory://). */
  readonly processLocal: boolean;
}

export interface MessageProperties {
  /** 1 = transient, 2 = persistent. */
  deliveryMode?: 1 | 2;
  /** Higher = more urgent, as in AMQP, on every transport. */
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Per-message TTL in ms. */
  expiration?: number;
  messageId?: string;
  /** Seconds since the epoch, as AMQP has it. */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
}

/** A message as a transport sends it: encoded bytes plus metadata. */
export interface OutgoingMessage {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly headers: Headers;
  readonly properties: MessageProperties;
}

export interface PublishTarget {
  readonly exchange: string;
  readonly routingKey: string;
  /** Return the message (`returned` event) when no queue is bound for it. */
  readonly mandatory: boolean;
  /**
   * Hold the message for this many ms before it becomes ready: in the delayed set where the
   * transport has `nativeDelay`, else by the transport's own means (RabbitMQ: per-level TTL
   * queues); a transport that cannot delay rejects with `UnsupportedFeatureError`.
   */
  readonly delay?: number;
  /** Per-publish confirm timeout in ms (AMQP). */
  readonly timeout?: number;
  /** false: resolve once written, without waiting for a publisher confirm (AMQP). */
  readonly confirm?: boolean;
}

export interface DeliveryInfo {
  readonly exchange: string;
  readonly routingKey: string;
  readonly consumerTag?: string;
  readonly deliveryTag: string | number;
  readonly redelivered: boolean;
  /** How many times the broker has delivered it before (quorum queues, virtual transports). */
  readonly deliveryCount?: number;
  /**
   * How many times it came back because its lease lapsed while a consumer held it (that consumer
   * died, or its event loop was stuck past `maxBlockedMs`). Virtual transports count them; on
   * RabbitMQ it is a quorum queue's `x-delivery-count`. Absent where nothing counts (classic queues).
   */
  readonly lapses?: number;
}

/**
 * A message as a transport hands it up, with the four ways to settle it. Each delivery is settled
 * at most once (Message guards that). Deliveries of a `noAck` subscription are settled too (the
 * consumer does it when its handler returns): for them settling is bookkeeping only (frees the
 * prefetch slot) and must never reach the broker.
 */
export interface Delivery {
  readonly queue: string;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly headers: Headers;
  readonly properties: MessageProperties;
  readonly deliveryInfo: DeliveryInfo;
  /**
   * True once this consumer can no longer settle it: its lease was given up (virtual transports,
   * an event loop stuck past `maxBlockedMs`) or its channel closed (AMQP). The broker hands it to
   * another consumer, so it must not be started here. Absent: never lost.
   */
  readonly lost?: boolean;
  /** Done: remove it for good. */
  ack(): Promise<void>;
  /** Refused: drop it, or dead-letter it when the queue has a dead-letter exchange. */
  reject(): Promise<void>;
  /** Try again later: back of the queue, marked redelivered. */
  requeue(): Promise<void>;
  /** Never started (prefetched, then the consumer stopped): front of the queue. */
  release(): Promise<void>;
}

export interface ConsumeOptions {
  /** Most unsettled deliveries at once across the subscription's queues; 0 = unlimited. */
  readonly prefetch: number;
  /** Deliveries count as acked when handed over. */
  readonly noAck: boolean;
  readonly consumerTag: string;
}

export interface Subscription {
  readonly consumerTag: string;
  /** Stop fetching. Deliveries already handed over stay unsettled until settled or released. */
  cancel(): Promise<void>;
}

export interface QueueStatus {
  readonly name: string;
  readonly messageCount: number;
  readonly consumerCount: number;
}

/** A message that could not be routed with `mandatory: true`. */
export interface ReturnedMessage {
  readonly message: OutgoingMessage;
  readonly exchange: string;
  readonly routingKey: string;
  readonly replyText: string;
}

export type TransportEvents = {
  connected: [url: string];
  disconnected: [error: Error | undefined];
  reconnecting: [attempt: number, delayMs: number];
  error: [error: Error];
  returned: [returned: ReturnedMessage];
  /** The broker stopped reading publishes (RabbitMQ flow control), with its reason. */
  blocked: [reason: string];
  unblocked: [];
};

export type TransportEventName = keyof TransportEvents;

export interface Transport {
  readonly capabilities: TransportCapabilities;

  /** Connect to one of the URLs (trying them in turn). Rejects with `ConnectionError`. */
  connect(): Promise<void>;
  /** Release prefetched messages, cancel consumers, close sockets. Idempotent. */
  close(): Promise<void>;

  declareExchange(exchange: ExchangeSpec): Promise<void>;
  /** Declare the queue and its bindings (their exchanges are declared first by the caller). */
  declareQueue(queue: QueueSpec): Promise<void>;
  bindQueue(queue: string, exchange: string, routingKey: string, args?: Record<string, unknown>): Promise<void>;
  unbindQueue(queue: string, exchange: string, routingKey: string, args?: Record<string, unknown>): Promise<void>;
  /** Needs `exchangeBindings`. */
  bindExchange?(destination: string, source: string, routingKey: string, args?: Record<string, unknown>): Promise<void>;
  deleteQueue(queue: string): Promise<void>;
  deleteExchange(exchange: string): Promise<void>;
  /** Remove ready messages; returns how many. */
  purgeQueue(queue: string): Promise<number>;
  /**
   * Transports with a delayed set (`nativeDelay`): move every delayed message of the queue into it
   * now, at the front, the soonest due first; returns how many. For peers that do not read the
   * delayed set (Celery's workers on Redis). A message that carries no due time of its own (a
   * consumer's retry backoff) is then delivered early: only for queues whose messages do (Celery's
   * `eta` header).
   */
  promoteDelayed?(queue: string): Promise<number>;
  /** Rejects with `NotFoundError` for a queue that does not exist (where the broker can tell). */
  checkQueue(queue: string): Promise<QueueStatus>;

  /** Resolves once the broker has the message (confirmed, or the write acknowledged). */
  publish(message: OutgoingMessage, target: PublishTarget): Promise<void>;
  /** Start delivering from several queues under one prefetch budget. */
  consume(queues: readonly string[], options: ConsumeOptions, onDelivery: (delivery: Delivery) => void): Promise<Subscription>;
  /** One message or `undefined` when the queue is empty (basic.get). */
  get(queue: string, options: { noAck: boolean }): Promise<Delivery | undefined>;

  on<E extends TransportEventName>(event: E, listener: (...args: TransportEvents[E]) => void): this;
  off<E extends TransportEventName>(event: E, listener: (...args: TransportEvents[E]) => void): this;
}

export interface TransportOptions {
  /** Scheme-specific options, merged from the URL query and the Connection options. */
  readonly transportOptions: Record<string, unknown>;
  readonly logger: Logger;
  /** Connect timeout per attempt in ms. */
  readonly connectTimeout: number;
  /** Heartbeat in seconds (AMQP). */
  readonly heartbeat?: number;
  /** Connection name shown by the broker. */
  readonly connectionName?: string;
}

/** What a transport package registers for its schemes. `urls` is the failover list, all of its schemes. */
export type TransportFactory = (urls: readonly BrokerUrl[], options: TransportOptions) => Transport;
