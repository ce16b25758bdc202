/**
 * Where a channel is held (a subscription's, a lazily opened one) and the one way settles are
 * written on it. After a channel died (reconnect), an ack with its old delivery tag would close
 * the new channel, so a settle is written only on the channel its message came on, while that is
 * still the slot's; amqplib throws on a channel that is closing, and that is a settle not written
 * too (the broker redelivers the message): no amqplib error reaches the user from ack/reject.
 */
import type { Channel } from 'amqplib';
import { holdWrites } from './write-coalescer.js';

export interface ChannelSlot {
  /** The live channel, or undefined once it closed. */
  readonly channel: Channel | undefined;
}

/** Runs `action` (an ack or nack) on `channel` with the other writes of this turn; false when it did not reach the channel. */
export function writeSettle(slot: ChannelSlot, channel: Channel, action: (ch: Channel) => void): boolean {
  if (slot.channel !== channel) return false;
  try {
    holdWrites(channel);
    action(channel);
    return true;
  } catch {
    return false;
  }
}
