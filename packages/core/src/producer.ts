/**
 * Publishes messages: declares what it is asked to (once per connection), encodes the body,
 * and resolves once the broker has the message (confirm or acknowledged write).
 */
import { raceAbort, throwIfAborted } from './abort.js';
import type { ConnectionHost } from './connection-host.js';
import { Exchange } from './exchange.js';
import { ConnectionError, TimeoutError } from './errors.js';
import { encodeBody, prepareEncode, type EncodedBody, type EncodeOptions } from './payload.js';
import type { Queue } from './queue.js';
import { retry, type RetryPolicy } from './retry.js';
import { publishChannel, serverOf, traced } from './tracing.js';
import type { Headers, MessageProperties, OutgoingMessage, PublishTarget } from './spi/transport.js';

export interface ProducerOptions {
  /** Default exchange for `publish` (default: the nameless exchange). */
  exchange?: Exchange | string;
  /** Default routing key. */
  routingKey?: string;
  /** Default serializer name or MIME type ('json'). */
  serializer?: string;
  /** Default compression codec. */
  compression?: string;
  /**
   * Wait for the broker's publisher confirm (AMQP; default true). false saves broker CPU and a
   * round trip, and `publish()` resolves once the message is written: a message the broker loses
   * (connection drop, full queue, crash) is lost silently. Other transports always acknowledge.
   */
  confirms?: boolean;
  /**
   * false: publishes do not go through the `nori:publish` tracing channel (no span, no trace
   * context in the headers): for traffic a layer above traces itself (task messages) or internal
   * traffic (remote control, events).
   */
  trace?: boolean;
}

export interface PublishOptions extends EncodeOptions {
  exchange?: Exchange | string;
  routingKey?: string;
  /** Entities to declare first (cached per connection). */
  declare?: ReadonlyArray<Exchange | Queue>;
  headers?: Headers;
  /** Higher = more urgent (AMQP meaning, on every transport). */
  priority?: number;
  /** Per-message TTL in ms. */
  expiration?: number;
  deliveryMode?: 1 | 2 | 'transient' | 'persistent';
  correlationId?: string;
  replyTo?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  appId?: string;
  /** Ask for the message back (`returned` event) when nothing is bound for it. */
  mandatory?: boolean;
  /** Hold the message this many ms before it becomes ready (a delayed set, or RabbitMQ's per-level TTL queues). */
  delay?: number;
  /** Confirm timeout in ms. */
  timeout?: number;
  /** Retry on connection errors with `retryPolicy`. */
  retry?: boolean;
  retryPolicy?: RetryPolicy;
  /**
   * Withdraw the publish while it still can be: before the message is handed to the transport
   * (waiting to connect, declaring, between retries) an abort rejects it with `AbortError` and
   * nothing is sent. Once handed over, the publish completes as usual.
   */
  signal?: AbortSignal;
}

/** Celery's default publish retry policy. */
export const DEFAULT_PUBLISH_RETRY: RetryPolicy = { maxRetries: 3, intervalStart: 0, intervalStep: 200, intervalMax: 200 };

const NOTHING: ReadonlyArray<Exchange | Queue> = [];

/** A loop, not `every` with a closure: this runs on every publish. */
function allDeclared(host: ConnectionHost, entities: ReadonlyArray<Exchange | Queue>): boolean {
  for (const entity of entities) if (!host.isDeclared(entity)) return false;
  return true;
}

function deliveryMode(mode: PublishOptions['deliveryMode']): 1 | 2 | undefined {
  if (mode === 'transient') return 1;
  if (mode === 'persistent') return 2;
  return mode;
}

export class Producer {
  constructor(
    private readonly host: ConnectionHost,
    readonly options: ProducerOptions = {},
  ) {}

  /**
   * Resolves once the broker has the message. Not an async function on purpose: the common case
   * (connected, nothing to declare, no retry) hands the transport's promise straight back, which
   * saves a promise chain per message on the hot path.
   */
  publish<T = unknown>(body: T, options: PublishOptions = {}): Promise<void> {
    const [encodeOptions, serializer] = this.#encodeOptions(options);
    const loading = prepareEncode(body, encodeOptions, serializer);
    if (loading) return loading.then(() => this.publish(body, options));
    const exchange = options.exchange ?? this.options.exchange ?? '';
    let message: OutgoingMessage;
    try {
      throwIfAborted(options.signal);
      message = this.#message(encodeBody(body, encodeOptions, serializer), options);
    } catch (error) {
      return Promise.reject(error);
    }
    const target: { -readonly [K in keyof PublishTarget]: PublishTarget[K] } = {
      exchange: typeof exchange === 'string' ? exchange : exchange.name,
      routingKey: options.routingKey ?? this.options.routingKey ?? '',
      mandatory: options.mandatory ?? false,
    };
    if (options.delay !== undefined) target.delay = options.delay;
    if (options.timeout !== undefined) target.timeout = options.timeout;
    if (this.options.confirms === false) target.confirm = false;
    const toDeclare = exchange instanceof Exchange ? [...(options.declare ?? []), exchange] : (options.declare ?? NOTHING);
    if (this.options.trace === false || !traced(publishChannel)) return this.#send(message, target, toDeclare, options);
    const context = { ...serverOf(this.host.urls), message, exchange: target.exchange, routingKey: target.routingKey };
    return publishChannel.tracePromise(this.#send, context, this, message, target, toDeclare, options);
  }

  #send(message: OutgoingMessage, target: PublishTarget, toDeclare: ReadonlyArray<Exchange | Queue>, options: PublishOptions): Promise<void> {
    const host = this.host;
    const transport = host.activeTransport();
    if (transport && !options.retry && allDeclared(host, toDeclare)) return transport.publish(message, target);
    const send = async (signal: AbortSignal | undefined): Promise<void> => {
      const t = await raceAbort(this.host.transport(), signal);
      for (const entity of toDeclare) await this.host.declare(entity);
      throwIfAborted(signal);
      await t.publish(message, target);
    };
    if (!options.retry) return send(options.signal);
    // Closing the connection ends the retries (and the sleep between them) too.
    return host.untilClosed(options.signal, (stop) =>
      retry(() => send(stop), options.retryPolicy ?? DEFAULT_PUBLISH_RETRY, {
        isRetryable: (error) => error instanceof ConnectionError || error instanceof TimeoutError,
        signal: stop,
      }),
    );
  }

  /** The publish options with the producer's default compression, and the default serializer. */
  #encodeOptions(options: PublishOptions): [EncodeOptions, string] {
    const compression = options.compression ?? this.options.compression;
    return [compression === options.compression ? options : { ...options, compression }, options.serializer ?? this.options.serializer ?? 'json'];
  }

  #message(encoded: EncodedBody, options: PublishOptions): OutgoingMessage {
    const headers: Headers = { ...options.headers };
    if (encoded.compression !== undefined) headers['compression'] = encoded.compression;
    const properties: MessageProperties = {};
    const mode = deliveryMode(options.deliveryMode);
    if (mode !== undefined) properties.deliveryMode = mode;
    if (options.priority !== undefined) properties.priority = options.priority;
    if (options.expiration !== undefined) properties.expiration = options.expiration;
    if (options.correlationId !== undefined) properties.correlationId = options.correlationId;
    if (options.replyTo !== undefined) properties.replyTo = options.replyTo;
    if (options.messageId !== undefined) properties.messageId = options.messageId;
    if (options.timestamp !== undefined) properties.timestamp = options.timestamp;
    if (options.type !== undefined) properties.type = options.type;
    if (options.appId !== undefined) properties.appId = options.appId;
    return { body: encoded.body, contentType: encoded.contentType, contentEncoding: encoded.contentEncoding, headers, properties };
  }
}
