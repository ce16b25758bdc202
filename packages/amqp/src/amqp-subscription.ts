/**
 * One consume() on RabbitMQ: its own channel (publishing never blocks consuming), one prefetch
 * budget across its queues (basic.qos with global = per channel when it has several; per consumer
 * for one, the same budget, and the only kind quorum queues accept), reopened with the same
 * consumer tags after a reconnect.
 *
 * What the broker does to a consumer on its own is reported and repaired, never swallowed:
 * - basic.cancel (its queue was deleted, ...): a ConsumerCancelledError event, then the consumer
 *   comes back on the same channel once the queue exists again (kombu's on_cancel path);
 * - the channel closed by the broker while the connection stays up (an ack the broker refuses,
 *   `consumer_timeout`, ...): the error event, then a new channel with the same consumers. The
 *   broker requeues what was unacked on the old channel.
 * Both wait with the reconnect backoff, and stop on cancel() or when the connection goes away.
 */
import type { Channel, ChannelModel } from 'amqplib';
import { backoffDelay, ConsumerCancelledError, type Logger, type RetryPolicy } from '@nori/core';
import { delay, type ConsumeOptions, type Delivery, type Subscription } from '@nori/core/spi';
import { AckBatch } from './ack-batch.js';
import { AmqpDelivery, type DeliverySource } from './amqp-delivery.js';
import { amqpError } from './amqp-error.js';
import type { ChannelSlot } from './channel-slot.js';

/** What a subscription needs of its transport. */
export interface SubscriptionHost {
  readonly logger: Logger;
  /** The backoff between attempts to resume or reopen. */
  readonly retry: RetryPolicy;
  error(error: Error): void;
  /** Whether the queue exists now (asked on another channel: a 404 closes the channel it is asked on). */
  queueExists(queue: string): Promise<boolean>;
  /** See `AmqpDelivery.lost`. */
  readonly stallLimitMs: number;
}

export class AmqpSubscription implements Subscription, ChannelSlot {
  channel: Channel | undefined;
  /** The acks of `channel` (see ack-batch.ts). */
  #acks: AckBatch | undefined;
  readonly consumerTag: string;
  #active = true;
  #unsettled = 0;
  /** The connection this subscription consumes on; undefined while disconnected. */
  #model: ChannelModel | undefined;
  /** An open() in progress: its caller handles a failure, the close listener must not. */
  #opening = false;
  #reopening = false;
  /** Aborts the waits of a resume or reopen: on cancel() and on connection loss. */
  #waits = new AbortController();

  constructor(
    readonly queues: readonly string[],
    private readonly options: ConsumeOptions,
    private readonly onDelivery: (delivery: Delivery) => void,
    private readonly host: SubscriptionHost,
  ) {
    this.consumerTag = options.consumerTag;
  }

  get active(): boolean {
    return this.#active;
  }

  #tag(index: number): string {
    return this.queues.length === 1 ? this.options.consumerTag : `${this.options.consumerTag}.${index}`;
  }

  /** Open a channel on this connection and start consuming. Rejects with amqplib's error. */
  async open(model: ChannelModel): Promise<void> {
    if (!this.#active) return;
    this.#model = model;
    this.#opening = true;
    let ch: Channel | undefined;
    try {
      ch = await model.createChannel();
      const opened = ch;
      ch.on('error', (e: Error) => this.host.error(amqpError(e, `consumer channel of ${this.queues.join(', ')}`)));
      ch.on('close', () => {
        if (this.channel !== opened) return;
        this.channel = undefined;
        // Closed by the broker alone (on a connection loss, detach() stops the reopen).
        if (this.#active && !this.#opening) void this.#reopen(model);
      });
      this.channel = ch;
      this.#acks = new AckBatch(ch, this, (count) =>
        this.host.logger.warn({ queues: this.queues, count }, 'acks not written: their channel closed; the broker redelivers the messages'),
      );
      this.#unsettled = 0;
      if (this.options.prefetch > 0) await ch.prefetch(this.options.prefetch, this.queues.length > 1);
      for (const [i, queue] of this.queues.entries()) await this.#consume(ch, i, queue);
    } catch (error) {
      if (this.channel === ch) this.channel = undefined;
      await ch?.close().catch(() => undefined);
      throw error;
    } finally {
      this.#opening = false;
    }
  }

  /** Consume again on a new connection; a failure is reported and retried, not thrown. */
  async attach(model: ChannelModel): Promise<void> {
    try {
      await this.open(model);
    } catch (error) {
      this.host.error(amqpError(error, `consuming again from ${this.queues.join(', ')}`));
      void this.#reopen(model);
    }
  }

  /** The connection went away, and the channel with it. */
  detach(): void {
    this.channel = undefined;
    this.#model = undefined;
    this.#waits.abort();
    this.#waits = new AbortController();
  }

  #consume(ch: Channel, index: number, queue: string): Promise<unknown> {
    const noAck = this.options.noAck;
    const acks = noAck ? undefined : this.#acks;
    const { logger, stallLimitMs } = this.host;
    const source: DeliverySource = { queue, channel: ch, slot: this, noAck, logger, onSettled: () => this.#settled(ch), stallLimitMs, acks };
    return ch.consume(
      queue,
      (message) => {
        if (!message) return this.#cancelled(ch, index, queue);
        if (ch === this.channel) this.#unsettled++;
        acks?.delivered(message);
        this.onDelivery(new AmqpDelivery(source, message));
      },
      { noAck, consumerTag: this.#tag(index) },
    );
  }

  /** basic.cancel from the broker: report it, and consume again once the queue is back. */
  #cancelled(ch: Channel, index: number, queue: string): void {
    if (!this.#active) return;
    this.host.error(new ConsumerCancelledError(queue, `the broker cancelled the consumer of queue "${queue}" (deleted?); consuming again once it exists`));
    void this.#retry(async () => {
      if (ch !== this.channel) return true; // the channel was replaced: its open() consumed again
      if (!(await this.host.queueExists(queue))) return false;
      await this.#consume(ch, index, queue);
      return true;
    });
  }

  /** A new channel with every consumer, once the queues exist. */
  async #reopen(model: ChannelModel): Promise<void> {
    if (this.#reopening) return;
    this.#reopening = true;
    try {
      await this.#retry(async () => {
        if (this.#model !== model || this.channel) return true;
        for (const queue of this.queues) if (!(await this.host.queueExists(queue))) return false;
        await this.open(model);
        return true;
      });
    } finally {
      this.#reopening = false;
    }
  }

  /** Run `attempt` with backoff until it returns true, the subscription is cancelled, or the connection goes. */
  async #retry(attempt: () => Promise<boolean>): Promise<void> {
    const signal = this.#waits.signal;
    for (let n = 1; this.#active && !signal.aborted; n++) {
      try {
        await delay(backoffDelay(n, this.host.retry), signal);
      } catch {
        return; // aborted
      }
      if (!this.#active || signal.aborted) return;
      try {
        if (await attempt()) return;
      } catch (error) {
        this.host.error(amqpError(error, `consuming again from ${this.queues.join(', ')}`));
      }
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
    // The acks of this turn go before channel.close: the broker would requeue what they settle.
    this.#acks?.flush();
    this.channel = undefined;
    await ch?.close().catch(() => undefined);
  }

  /**
   * Stop fetching. The channel stays open until the messages already handed over are settled.
   * Not `graceful` (the connection closes and the broker would not answer): just let go.
   */
  async cancel(graceful = true): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    this.#waits.abort();
    const ch = this.channel;
    if (!ch || !graceful) return;
    for (const [i] of this.queues.entries()) await ch.cancel(this.#tag(i)).catch(() => undefined);
    if (this.#unsettled === 0) await this.#close();
  }
}
