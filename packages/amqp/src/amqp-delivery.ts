/**
 * An amqplib message as a nori Delivery. Settling is tied to the channel the message came on: after
 * that channel died (reconnect), an ack with its old delivery tag would close the new channel, so
 * it is skipped (the broker redelivers the message) and logged; so is a settle on a channel that is
 * closing (amqplib throws): no amqplib error reaches the user from ack/reject/requeue.
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
import { stallAround } from './loop-stall.js';
import { holdWrites } from './write-coalescer.js';

const RESOLVED = Promise.resolve();

export interface ChannelSlot {
  /** The live channel, or undefined once it closed. */
  readonly channel: Channel | undefined;
}

/** false when the channel is closing (amqplib throws): the settle did not reach the broker. */
function write(channel: Channel, action: (ch: Channel) => void): boolean {
  try {
    holdWrites(channel);
    action(channel);
    return true;
  } catch {
    return false;
  }
}

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
): Delivery {
  const receivedAt = Date.now();
  let settled = false;
  // amqplib's ack/nack are synchronous writes: no promise chain per message beyond the one returned.
  const settle = (action: (ch: Channel) => void) => (): Promise<void> => {
    if (settled) return RESOLVED;
    settled = true;
    if (!noAck && !(slot.channel === channel && write(channel, action))) {
      logger.warn({ queue, deliveryTag: message.fields.deliveryTag }, 'not settling a message of a closed channel; the broker redelivers it');
    }
    // After the ack is written: the subscription may close its channel once nothing is unsettled.
    onSettled();
    return RESOLVED;
  };
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
    ack: settle((ch) => ch.ack(message)),
    reject: settle((ch) => ch.nack(message, false, false)),
    requeue: settle((ch) => ch.nack(message, false, true)),
    release: settle((ch) => ch.nack(message, false, true)),
  };
}
