/**
 * Delayed publishing on RabbitMQ without plugins (RabbitMQ has no delayed set, so the transport's
 * `nativeDelay` stays false). Each delay level has a fanout exchange and a queue, both named
 * `nori.delay.<ms>` (plus `.<exchange>` for a target other than the default exchange), whose
 * message TTL is the level and whose dead-letter exchange is the target: a message waits there,
 * out of its own queue and never in flight, then expires into the target exchange with its own
 * routing key. All messages of a level share one TTL, so none waits behind another (RabbitMQ
 * expires only from a queue's head). Delays round to two significant digits (1234 ms waits
 * 1200 ms) so jittered backoffs share a bounded set of levels. The queue is declared again on
 * every delayed publish, which renews its expiry (the level plus 5 minutes): unused levels go
 * away, and none expires while a message it holds is still waiting.
 */
import type { ExchangeSpec, OutgoingMessage, PublishTarget, QueueSpec } from '@nori/core/spi';

const EXPIRES_AFTER_LEVEL = 300_000;

/** The level a delay waits at: two significant digits, at least 1 ms. */
export function delayLevel(delay: number): number {
  const step = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(delay, 1))) - 1);
  return Math.max(1, Math.round(delay / step) * step);
}

export function delayLevelQueue(level: number, exchange: string): QueueSpec {
  const name = exchange === '' ? `nori.delay.${level}` : `nori.delay.${level}.${exchange}`;
  return {
    name,
    durable: true,
    exclusive: false,
    autoDelete: false,
    messageTtl: level,
    expires: level + EXPIRES_AFTER_LEVEL,
    deadLetterExchange: exchange,
    arguments: {},
    bindings: [{ exchange: name, routingKey: '', arguments: {} }],
  };
}

export interface DelayLevelHost {
  declareExchange(exchange: ExchangeSpec): Promise<void>;
  declareQueue(queue: QueueSpec): Promise<void>;
}

export class DelayLevels {
  /** Level exchanges declared on this transport (the transport replays them after a reconnect). */
  readonly #exchanges = new Set<string>();

  constructor(
    private readonly host: DelayLevelHost,
    private readonly send: (message: OutgoingMessage, target: PublishTarget) => Promise<void>,
  ) {}

  async publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    const spec = delayLevelQueue(delayLevel(target.delay ?? 0), target.exchange);
    if (!this.#exchanges.has(spec.name)) {
      await this.host.declareExchange({ name: spec.name, type: 'fanout', durable: true, autoDelete: false, arguments: {} });
      this.#exchanges.add(spec.name);
    }
    await this.host.declareQueue(spec);
    await this.send(message, {
      exchange: spec.name,
      routingKey: target.routingKey,
      mandatory: target.mandatory,
      ...(target.timeout !== undefined && { timeout: target.timeout }),
      ...(target.confirm === false && { confirm: false }),
    });
  }
}
