/**
 * One consume() on RabbitMQ: its own channel (publishing never blocks consuming), one prefetch
 * budget across its queues (basic.qos with global = per channel), reopened with the same consumer
 * tags after a reconnect.
 */
import type { Channel, ChannelModel } from 'amqplib';
import type { ConsumeOptions, Delivery, Logger, Subscription } from '@nori/core';
import { toDelivery, type ChannelSlot } from './amqp-delivery.js';

export class AmqpSubscription implements Subscription, ChannelSlot {
  channel: Channel | undefined;
  readonly consumerTag: string;
  #active = true;
  #unsettled = 0;

  constructor(
    readonly queues: readonly string[],
    private readonly options: ConsumeOptions,
    private readonly onDelivery: (delivery: Delivery) => void,
    private readonly logger: Logger,
    private readonly onError: (error: Error) => void,
  ) {
    this.consumerTag = options.consumerTag;
  }

  get active(): boolean {
    return this.#active;
  }

  #tag(index: number): string {
    return this.queues.length === 1 ? this.options.consumerTag : `${this.options.consumerTag}.${index}`;
  }

  /** Open a channel on this connection and start consuming (again, after a reconnect). */
  async open(model: ChannelModel): Promise<void> {
    if (!this.#active) return;
    const ch = await model.createChannel();
    ch.on('error', (e: Error) => this.onError(e));
    ch.on('close', () => {
      if (this.channel === ch) this.channel = undefined;
    });
    this.channel = ch;
    this.#unsettled = 0;
    if (this.options.prefetch > 0) await ch.prefetch(this.options.prefetch, true);
    const noAck = this.options.noAck;
    for (const [i, queue] of this.queues.entries()) {
      await ch.consume(
        queue,
        (message) => {
          if (!message) return; // the broker cancelled (queue deleted): nothing more comes
          if (ch === this.channel) this.#unsettled++;
          this.onDelivery(toDelivery(queue, message, ch, this, noAck, this.logger, () => this.#settled(ch)));
        },
        { noAck, consumerTag: this.#tag(i) },
      );
    }
  }

  #settled(ch: Channel): void {
    if (ch !== this.channel) return;
    this.#unsettled--;
    // Cancelled and the last handed-over message settled: the channel has nothing left to do.
    if (!this.#active && this.#unsettled === 0) void this.#close();
  }

  async #close(): Promise<void> {
    const ch = this.channel;
    this.channel = undefined;
    await ch?.close().catch(() => undefined);
  }

  /** Stop fetching. The channel stays open until the messages already handed over are settled. */
  async cancel(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    const ch = this.channel;
    if (!ch) return;
    for (const [i] of this.queues.entries()) await ch.cancel(this.#tag(i)).catch(() => undefined);
    if (this.#unsettled === 0) await this.#close();
  }
}
