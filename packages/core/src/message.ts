/**
 * A received message: metadata exactly as sent, the body decoded lazily and once, and a
 * settle-once state machine (ack, reject, requeue; a second settle throws).
 */
import { MessageStateError } from './errors.js';
import { decodeBody, prepareDecode, type DecodeLimits } from './payload.js';
import { validate, type StandardSchemaV1 } from './schema.js';
import type { Delivery, DeliveryInfo, Headers, MessageProperties } from './spi/transport.js';

export type MessageState = 'RECEIVED' | 'ACK' | 'REJECTED' | 'REQUEUED' | 'RELEASED';

const UNDECODED = Symbol('undecoded');

/**
 * `T` is what the body is declared to be: checked at run time only when the consumer or simple
 * queue has a `schema` (then it is the schema's output), else taken on trust.
 */
export class Message<T = unknown> {
  #state: MessageState = 'RECEIVED';
  #decoded: unknown = UNDECODED;

  constructor(
    private readonly delivery: Delivery,
    private readonly limits: DecodeLimits = {},
    /** Delivered without acknowledgement: settling is bookkeeping only (the transport knows). */
    readonly noAck = false,
  ) {}

  /** The decoded body. Throws `DecodeError`, `ContentDisallowedError`, ... when it cannot be decoded. */
  get body(): T {
    return this.decode();
  }

  /** Load the codec packages the body needs (on first use); undefined when none is missing. */
  prepare(): Promise<unknown> | undefined {
    return this.#decoded === UNDECODED ? prepareDecode(this.delivery.contentType, this.delivery.headers, this.limits) : undefined;
  }

  decode(): T {
    if (this.#decoded === UNDECODED) {
      const d = this.delivery;
      this.#decoded = decodeBody(d.body, d.contentType, d.contentEncoding, d.headers, this.limits);
    }
    return this.#decoded as T;
  }

  /** Decode, then validate with `schema`; the schema's output (it may transform) becomes `body`. Throws `SchemaValidationError`. */
  async parse(schema: StandardSchemaV1<unknown, T>): Promise<T> {
    const value = await validate(schema, this.decode(), this.delivery.queue);
    this.#decoded = value;
    return value;
  }

  /** The bytes as received (still compressed if they were). */
  get rawBody(): Uint8Array {
    return this.delivery.body;
  }
  get queue(): string {
    return this.delivery.queue;
  }
  get headers(): Headers {
    return this.delivery.headers;
  }
  get contentType(): string | undefined {
    return this.delivery.contentType;
  }
  get contentEncoding(): string | undefined {
    return this.delivery.contentEncoding;
  }
  get properties(): MessageProperties {
    return this.delivery.properties;
  }
  get deliveryInfo(): DeliveryInfo {
    return this.delivery.deliveryInfo;
  }
  get deliveryTag(): string | number {
    return this.delivery.deliveryInfo.deliveryTag;
  }
  get redelivered(): boolean {
    return this.delivery.deliveryInfo.redelivered;
  }
  /**
   * How many times this message came back because its lease lapsed while a consumer held it: that
   * consumer died, or its event loop was stuck past the transport's `maxBlockedMs`. Counted by
   * Redis, MongoDB and memory; on RabbitMQ it is a quorum queue's `x-delivery-count` (which counts
   * requeues too), 0 on classic queues. A consumer rejects a message past its `maxLapses`.
   */
  get lapses(): number {
    return this.delivery.deliveryInfo.lapses ?? 0;
  }
  /**
   * True once this consumer can no longer settle the message, so it must not start it: its lease
   * was given up (an event loop stuck past `maxBlockedMs`) or its channel closed (RabbitMQ, e.g. the
   * broker's heartbeat timeout after a long block). The broker gives it to another consumer; settling
   * it here changes nothing. The consumer skips such messages; code that holds messages itself (a
   * task worker's reserved tasks) checks this before starting one.
   */
  get lost(): boolean {
    return this.delivery.lost === true;
  }
  get state(): MessageState {
    return this.#state;
  }
  /** True once settled in any way. */
  get acknowledged(): boolean {
    return this.#state !== 'RECEIVED';
  }

  /** Done with it: the broker forgets the message. */
  ack(): Promise<void> {
    return this.#settle('ACK', () => this.delivery.ack());
  }
  /** Refuse it: dropped, or dead-lettered when the queue has a dead-letter exchange. */
  reject(): Promise<void> {
    return this.#settle('REJECTED', () => this.delivery.reject());
  }
  /** Put it back to be delivered again (marked redelivered). */
  requeue(): Promise<void> {
    return this.#settle('REQUEUED', () => this.delivery.requeue());
  }
  /** Return an unstarted message to the front of its queue (what `Consumer.stop()` does). */
  release(): Promise<void> {
    return this.#settle('RELEASED', () => this.delivery.release());
  }

  /** Not async: settling is on every message's path, and the transport's promise is enough. */
  #settle(next: MessageState, action: () => Promise<void>): Promise<void> {
    if (this.#state !== 'RECEIVED') {
      return Promise.reject(new MessageStateError(`message ${String(this.deliveryTag)} was already settled (${this.#state}); cannot ${next.toLowerCase()} it`));
    }
    this.#state = next;
    return action();
  }
}
