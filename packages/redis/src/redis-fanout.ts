/**
 * Fanout over PUBLISH, as kombu does it (core's FanoutChannel): no storage, no acks. One subscriber
 * connection per store, opened on the first subscribe; undecodable broadcasts are dropped.
 */
import { Cluster, type Redis } from 'ioredis';
import type { Envelope, FanoutChannel } from '@nori/core/spi';
import { disconnectClient, duplicateClient } from './client.js';
import type { Keys } from './keys.js';
import { fromWire, toWire } from './wire-envelope.js';

export class RedisFanout implements FanoutChannel {
  readonly #client: Redis | Cluster;
  readonly #keys: Keys;
  #subscriber: Redis | Cluster | undefined;
  /** The cluster master this process PUBLISHes broadcasts through (see #publisher). */
  #node: Redis | undefined;
  /** Listeners by PSUBSCRIBE pattern; plain channels map to their exchange's pattern. */
  readonly #listeners = new Map<string, Set<(envelope: Envelope) => void>>();
  readonly #patternOf = new Map<string, string>();
  #closed = false;

  constructor(client: Redis | Cluster, keys: Keys) {
    this.#client = client;
    this.#keys = keys;
  }

  /**
   * PUBLISH has no key, so a Cluster client sends each one to a random master, and broadcasts
   * relayed by different masters reach a subscriber in either order: one master (while it stays
   * one) carries all of this process's broadcasts, so they arrive in publish order.
   */
  #publisher(): Redis | Cluster {
    if (!(this.#client instanceof Cluster)) return this.#client;
    const masters = this.#client.nodes('master');
    if (this.#node === undefined || !masters.includes(this.#node)) this.#node = masters[0];
    return this.#node ?? this.#client;
  }

  async publish(exchange: string, routingKey: string, envelope: Envelope): Promise<void> {
    const { text } = toWire(envelope, envelope.properties.priority, undefined);
    await this.#publisher().publish(this.#keys.fanoutChannel(exchange, routingKey), text);
  }

  async subscribe(exchange: string, onEnvelope: (envelope: Envelope) => void): Promise<() => Promise<void>> {
    if (!this.#subscriber) {
      const subscriber = duplicateClient(this.#client);
      const dispatch = (key: string, text: string): void => {
        let envelope: Envelope;
        try {
          envelope = fromWire(text);
        } catch {
          return; // kombu drops undecodable broadcasts too; nothing was stored to lose
        }
        for (const listener of this.#listeners.get(key) ?? []) listener(envelope);
      };
      // kombu publishes on `/{db}.{exchange}/{routing_key}` (fanout_patterns) or, with that
      // option off, on `/{db}.{exchange}`: listen to both.
      subscriber.on('pmessage', (pattern: string, _channel: string, text: string) => dispatch(pattern, text));
      subscriber.on('message', (channel: string, text: string) => dispatch(this.#patternOf.get(channel) ?? channel, text));
      this.#subscriber = subscriber;
    }
    const channel = this.#keys.fanoutChannel(exchange);
    const pattern = this.#keys.fanoutPattern(exchange);
    let set = this.#listeners.get(pattern);
    if (!set) this.#listeners.set(pattern, (set = new Set()));
    set.add(onEnvelope);
    this.#patternOf.set(channel, pattern);
    await this.#subscriber.subscribe(channel);
    await this.#subscriber.psubscribe(pattern);
    return async () => {
      set.delete(onEnvelope);
      if (set.size === 0 && !this.#closed) {
        this.#listeners.delete(pattern);
        await this.#subscriber?.unsubscribe(channel).catch(() => undefined);
        await this.#subscriber?.punsubscribe(pattern).catch(() => undefined);
      }
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#subscriber) disconnectClient(this.#subscriber);
  }
}
