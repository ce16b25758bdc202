/**
 * Delayed publishing on RabbitMQ without plugins. Each delay level has a fanout exchange and a
 * queue, both named `nori.delay.<ms>` (plus `.<exchange>` for a target other than the default
 * exchange), whose message TTL is the level and whose dead-letter exchange is the target: a
 * message waits there, out of its own queue and never in flight, then expires into the target
 * exchange with its own routing key. All messages of a queue share one TTL, so none blocks
 * another (a per-message TTL in one queue would: RabbitMQ expires only from the head).
 * Delays round to two significant digits (1234 ms waits 1200 ms) so jittered backoffs share a
 * bounded set of levels. The queues stay after use: a queue expiry could drop messages waiting.
 */
import type { ExchangeSpec, OutgoingMessage, PublishTarget, QueueSpec } from '@nori/core';

/** The level a delay waits at: two significant digits, at least 1 ms. */
export function delayLevel(delay: number): number {
  const step = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(delay, 1))) - 1);
  return Math.max(1, Math.round(delay / step) * step);
}

export function delayLevelName(level: number, exchange: string): string {
  return exchange === '' ? `nori.delay.${level}` : `nori.delay.${level}.${exchange}`;
}

export interface DelayLevelHost {
  declareExchange(exchange: ExchangeSpec): Promise<void>;
  declareQueue(queue: QueueSpec): Promise<void>;
}

export class DelayLevels {
  /** Levels declared on this transport (the transport replays them after a reconnect). */
  readonly #declared = new Map<string, Promise<void>>();

  constructor(
    private readonly host: DelayLevelHost,
    private readonly send: (message: OutgoingMessage, target: PublishTarget) => Promise<void>,
  ) {}

  async publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    const level = delayLevel(target.delay ?? 0);
    const name = delayLevelName(level, target.exchange);
    let declared = this.#declared.get(name);
    if (!declared) {
      declared = this.#declare(name, level, target.exchange);
      this.#declared.set(name, declared);
      declared.catch(() => this.#declared.delete(name));
    }
    await declared;
    await this.send(message, {
      exchange: name,
      routingKey: target.routingKey,
      mandatory: target.mandatory,
      ...(target.timeout !== undefined && { timeout: target.timeout }),
    });
  }

  async #declare(name: string, level: number, target: string): Promise<void> {
    await this.host.declareExchange({ name, type: 'fanout', durable: true, autoDelete: false, arguments: {} });
    await this.host.declareQueue({
      name,
      durable: true,
      exclusive: false,
      autoDelete: false,
      messageTtl: level,
      deadLetterExchange: target,
      arguments: {},
      bindings: [{ exchange: name, routingKey: '', arguments: {} }],
    });
  }
}
