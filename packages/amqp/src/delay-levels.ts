/**
 * Delayed publishing on RabbitMQ without plugins (RabbitMQ has no delayed set, so the transport's
 * `nativeDelay` stays false). Each delay level has a fanout exchange and a queue, both named
 * `nori.delay.<ms>.idle<idle ms>` (plus `.<exchange>` for a target other than the default
 * exchange), whose message TTL is the level and whose dead-letter exchange is the target: a
 * message waits there, out of its own queue and never in flight, then expires into the target
 * exchange with its own routing key. All messages of a level share one TTL, so none waits behind
 * another (RabbitMQ expires only from a queue's head). Delays round to two significant digits
 * (1234 ms waits 1200 ms) so jittered backoffs share a bounded set of levels.
 *
 * A level goes away by itself: the queue expires after the level plus the idle time (transport
 * option `delayLevelIdleMs`, default 5 minutes) without a delayed publish, and the exchange is
 * auto-delete, so it goes with the queue's binding. Every delayed publish declares the queue first
 * (renewing its expiry, so nothing in between can expire it), then the exchange and the binding
 * (either may have gone with an expired queue), so no "declared" cache can point at a level that
 * is gone. The idle time is in the name: connections with different ones never declare the same
 * queue with different arguments.
 */
import type { OutgoingMessage, PublishTarget, QueueSpec, Transport } from '@nori/core/spi';

/** How long a level outlives its last delayed publish, beyond its own TTL, by default: ms. */
export const DEFAULT_LEVEL_IDLE_MS = 300_000;

/** The level a delay waits at: two significant digits, at least 1 ms. */
export function delayLevel(delay: number): number {
  const step = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(delay, 1))) - 1);
  return Math.max(1, Math.round(delay / step) * step);
}

/** The level's queue (the exchange has its name); it is bound to the exchange by `DelayLevels`. */
export function delayLevelQueue(level: number, exchange: string, idleMs: number): QueueSpec {
  const base = `nori.delay.${level}.idle${idleMs}`;
  const name = exchange === '' ? base : `${base}.${exchange}`;
  return {
    name,
    durable: true,
    exclusive: false,
    autoDelete: false,
    messageTtl: level,
    expires: level + idleMs,
    deadLetterExchange: exchange,
    arguments: {},
    bindings: [],
  };
}

export type DelayLevelHost = Pick<Transport, 'declareExchange' | 'declareQueue' | 'bindQueue'>;

export class DelayLevels {
  constructor(
    private readonly host: DelayLevelHost,
    private readonly send: (message: OutgoingMessage, target: PublishTarget) => Promise<void>,
    private readonly idleMs: number,
  ) {}

  async publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    const spec = delayLevelQueue(delayLevel(target.delay ?? 0), target.exchange, this.idleMs);
    await this.host.declareQueue(spec);
    await this.host.declareExchange({ name: spec.name, type: 'fanout', durable: true, autoDelete: true, arguments: {} });
    await this.host.bindQueue(spec.name, spec.name, '', {});
    await this.send(message, {
      exchange: spec.name,
      routingKey: target.routingKey,
      mandatory: target.mandatory,
      ...(target.timeout !== undefined && { timeout: target.timeout }),
      ...(target.confirm === false && { confirm: false }),
    });
  }
}
