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
import { type Delivery, readProperties } from '@nori/core/spi';
import type { AckBatch } from './ack-batch.js';
import { writeSettle, type ChannelSlot } from './channel-slot.js';
import { stallAround } from './loop-stall.js';

const RESOLVED = Promise.resolve();

export function toDelivery(
  queue: string,
  message: ConsumeMessage | GetMessage,
  channel: Channel,
  slot: ChannelSlot,
  noAck: boolean,
  logger: Logger,
  onSettled: () => void,
  /** A stall this long since it arrived makes it lost: half the heartbeat timeout (Infinity without heartbeats). */
  stallLimitMs: number,
  /** A consumer channel's batch, which the delivery was told to (none for a get). */
  acks?: AckBatch,
): Delivery {
  const receivedAt = Date.now();
  let settled = false;
  // amqplib's ack/nack are synchronous writes: no promise chain per message beyond the one returned.
  const settle = (write: () => boolean) => (): Promise<void> => {
    if (settled) return RESOLVED;
    settled = true;
    if (!noAck && !write()) {
      logger.warn({ queue, deliveryTag: message.fields.deliveryTag }, 'not settling a message of a closed channel; the broker redelivers it');
    }
    // After the ack is written: the subscription may close its channel once nothing is unsettled.
    onSettled();
    return RESOLVED;
  };
  const nack = (requeue: boolean): boolean => (acks ? acks.nack(message, requeue) : writeSettle(slot, channel, (ch) => ch.nack(message, false, requeue)));
  const headers = message.properties.headers ?? {};
  const count = headers['x-delivery-count'];
  return {
    queue,
    body: message.content,
    contentType: message.properties.contentType as string | undefined,
    contentEncoding: message.properties.contentEncoding as string | undefined,
    headers,
    properties: readProperties(message.properties, 'amqplib'),
    deliveryInfo: {
      exchange: message.fields.exchange,
      routingKey: message.fields.routingKey,
      ...('consumerTag' in message.fields && { consumerTag: message.fields.consumerTag }),
      deliveryTag: message.fields.deliveryTag,
      redelivered: message.fields.redelivered,
      ...(typeof count === 'number' && { deliveryCount: count, lapses: count }),
    },
    get lost(): boolean {
      return !noAck && !settled && (slot.channel !== channel || stallAround(receivedAt) >= stallLimitMs);
    },
    ack: settle(acks ? () => (acks.ack(message), true) : () => writeSettle(slot, channel, (ch) => ch.ack(message))),
    reject: settle(() => nack(false)),
    requeue: settle(() => nack(true)),
    release: settle(() => nack(true)),
  };
}
