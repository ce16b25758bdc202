/**
 * A channel opened on first use, forgotten when it closes (the next use opens a new one), and
 * opened once even when many callers ask at the same time: a burst of publishes or gets before
 * the channel exists would otherwise open a channel each, up to the broker's channel_max.
 */
import type { Channel } from 'amqplib';
import type { ChannelSlot } from './channel-slot.js';

export class LazyChannel<C extends Channel> implements ChannelSlot {
  channel: C | undefined;
  #opening: Promise<C> | undefined;
  /** Bumped by reset(): an opening that started on a lost connection does not come back as current. */
  #generation = 0;

  constructor(private readonly open: () => Promise<C>) {}

  get(): Promise<C> {
    if (this.channel) return Promise.resolve(this.channel);
    if (this.#opening) return this.#opening;
    const generation = this.#generation;
    const opening = this.open().then((ch) => {
      ch.on('close', () => {
        if (this.channel === ch) this.channel = undefined;
      });
      if (generation === this.#generation) this.channel = ch;
      return ch;
    });
    this.#opening = opening;
    const forget = (): void => {
      if (this.#opening === opening) this.#opening = undefined;
    };
    opening.then(forget, forget);
    return opening;
  }

  /**
   * Close it cleanly: the broker's close-ok comes after every frame sent before on this channel,
   * so acks written just before are not lost to a connection close that overtakes them.
   */
  async close(): Promise<void> {
    const ch = this.channel;
    this.reset();
    await ch?.close().catch(() => undefined);
  }

  /**
   * `ch` is closing (amqplib tells the channel's own listeners, confirm callbacks among them,
   * before ours): the next get() opens a new one.
   */
  discard(ch: C): void {
    if (this.channel === ch) this.channel = undefined;
  }

  /** The connection went away: its channels are gone with it. */
  reset(): void {
    this.#generation++;
    this.channel = undefined;
    this.#opening = undefined;
  }
}
