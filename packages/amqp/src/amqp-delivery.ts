/**
 * An amqplib message as a nori Delivery. Settling is tied to the channel the message came on (see
 * `writeSettle`): a settle that cannot reach it is skipped (the broker redelivers the message) and
 * logged; no amqplib error reaches the user from ack/reject/requeue. A consumer's acks go through
 * its channel's `AckBatch`.
 *
 * `lost` once its channel is gone, or once the event loop stalled around its arrival (see
 * `stallAround`) for half the heartbeat timeout: RabbitMQ closes a connection that missed two
 * heartbeats, and the close is read only once the loop turns. Erring early is harmless: a consumer
 * releases a lost message unstarted, which on a channel still alive just requeues it. `lapses` is a
 * quorum queue's `x-delivery-count`.
 */
import type { Channel, ConsumeMessage, GetMessage } from 'amqplib';
import type { Logger } from '@nori/core';
import { type Delivery, type DeliveryInfo, type Headers, type MessageProperties, readProperties } from '@nori/core/spi';
import type { AckBatch } from './ack-batch.js';
import { writeSettle, type ChannelSlot } from './channel-slot.js';
import { stallAround } from './loop-stall.js';

const RESOLVED = Promise.resolve();

/**
 * What the deliveries of one consume (or one get) share: built once, not per message, so a
 * delivery is one object without closures of its own.
 */
export interface DeliverySource {
  readonly queue: string;
  /** The channel the messages came on. */
  readonly channel: Channel;
  /** Where that channel is held: a settle is written only while it is still there. */
  readonly slot: ChannelSlot;
  readonly noAck: boolean;
  readonly logger: Logger;
  /** After each delivery's settle is written (or batched): the subscription may close its channel once nothing is unsettled. */
  readonly onSettled: () => void;
  /** A stall this long since it arrived makes it lost: half the heartbeat timeout (Infinity without heartbeats). */
  readonly stallLimitMs: number;
  /** A consumer channel's batch, which its deliveries were told to (none for a get). */
  readonly acks: AckBatch | undefined;
}

type Settle = 'ack' | 'reject' | 'requeue';
type Info = { -readonly [K in keyof DeliveryInfo]: DeliveryInfo[K] };

export class AmqpDelivery implements Delivery {
  readonly queue: string;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly headers: Headers;
  readonly properties: MessageProperties;
  readonly deliveryInfo: DeliveryInfo;
  readonly #source: DeliverySource;
  readonly #message: ConsumeMessage | GetMessage;
  readonly #receivedAt = Date.now();
  #settled = false;

  constructor(source: DeliverySource, message: ConsumeMessage | GetMessage) {
    this.#source = source;
    this.#message = message;
    const { fields, properties } = message;
    const headers = (properties.headers ?? {}) as Headers;
    this.queue = source.queue;
    this.body = message.content;
    this.contentType = properties.contentType as string | undefined;
    this.contentEncoding = properties.contentEncoding as string | undefined;
    this.headers = headers;
    this.properties = readProperties(properties, 'amqplib');
    const info: Info = { exchange: fields.exchange, routingKey: fields.routingKey, deliveryTag: fields.deliveryTag, redelivered: fields.redelivered };
    if ('consumerTag' in fields) info.consumerTag = fields.consumerTag;
    const count = headers['x-delivery-count'];
    if (typeof count === 'number') info.deliveryCount = info.lapses = count;
    this.deliveryInfo = info;
  }

  get lost(): boolean {
    const s = this.#source;
    return !s.noAck && !this.#settled && (s.slot.channel !== s.channel || stallAround(this.#receivedAt) >= s.stallLimitMs);
  }

  ack(): Promise<void> {
    return this.#settle('ack');
  }

  reject(): Promise<void> {
    return this.#settle('reject');
  }

  requeue(): Promise<void> {
    return this.#settle('requeue');
  }

  release(): Promise<void> {
    return this.#settle('requeue');
  }

  // amqplib's ack/nack are synchronous writes: no promise chain per message beyond the one returned.
  #settle(how: Settle): Promise<void> {
    if (this.#settled) return RESOLVED;
    this.#settled = true;
    const s = this.#source;
    if (!s.noAck && !this.#write(how)) {
      s.logger.warn({ queue: s.queue, deliveryTag: this.#message.fields.deliveryTag }, 'not settling a message of a closed channel; the broker redelivers it');
    }
    s.onSettled();
    return RESOLVED;
  }

  /** false when it did not reach the channel. */
  #write(how: Settle): boolean {
    const { acks, slot, channel } = this.#source;
    const m = this.#message;
    if (how === 'ack') {
      if (!acks) return writeSettle(slot, channel, (ch) => ch.ack(m));
      acks.ack(m);
      return true;
    }
    const requeue = how === 'requeue';
    return acks ? acks.nack(m, requeue) : writeSettle(slot, channel, (ch) => ch.nack(m, false, requeue));
  }
}
