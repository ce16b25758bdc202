/**
 * The acks of one consumer channel, written together: each basic.ack costs RabbitMQ a frame and a
 * call into the queue, and a worker settling thousands of messages a second spends much of the
 * broker's time there. Acks made in one event-loop turn are written at its end: one `basic.ack
 * multiple` for those below every delivery still unsettled (it acks nothing else: each delivery
 * under its tag is settled, its ack in this batch or its ack or nack written before), one
 * `basic.ack` each for the others. Every ack is still late: written once its message is settled,
 * never for a message still running, and a slow message holds back no other's ack. Nacks (reject,
 * requeue, release) are rare and written at once.
 *
 * Delivery tags on a channel rise with each delivery and the unsettled ones are kept in delivery
 * order, so the first is the lowest; there are as many as the prefetch at most.
 */
import type { Channel, Message } from 'amqplib';
import { writeSettle, type ChannelSlot } from './channel-slot.js';

export class AckBatch {
  /** Delivered and neither acked nor nacked, by tag in delivery order. */
  readonly #unsettled = new Set<number>();
  /** Acked, not yet written. */
  #acks: Message[] = [];
  #scheduled = false;

  /** `unwritten(count)`: acks that did not reach the channel (it closed; the broker redelivers them). */
  constructor(
    private readonly channel: Channel,
    private readonly slot: ChannelSlot,
    private readonly unwritten: (count: number) => void,
  ) {}

  delivered(message: Message): void {
    this.#unsettled.add(message.fields.deliveryTag);
  }

  /** Acks `message` with the others of this turn. */
  ack(message: Message): void {
    this.#unsettled.delete(message.fields.deliveryTag);
    this.#acks.push(message);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Nacks `message` now; false when that did not reach the channel. */
  nack(message: Message, requeue: boolean): boolean {
    this.#unsettled.delete(message.fields.deliveryTag);
    return writeSettle(this.slot, this.channel, (ch) => ch.nack(message, false, requeue));
  }

  /** Writes the acks waiting: at the end of the turn, and before the channel is closed. */
  flush(): void {
    this.#scheduled = false;
    const acks = this.#acks;
    if (acks.length === 0) return;
    this.#acks = [];
    const lowest = this.#unsettled.values().next();
    const floor = lowest.done === true ? Infinity : lowest.value;
    let upTo: Message | undefined;
    const written = writeSettle(this.slot, this.channel, (ch) => {
      for (const m of acks) {
        const tag = m.fields.deliveryTag;
        if (tag > floor) ch.ack(m);
        else if (upTo === undefined || tag > upTo.fields.deliveryTag) upTo = m;
      }
      if (upTo) ch.ack(upTo, true);
    });
    if (!written) this.unwritten(acks.length);
  }
}
