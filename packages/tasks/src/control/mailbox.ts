/**
 * Celery's remote-control mailbox (kombu/pidbox.py with Celery's settings): commands go to the
 * fanout exchange `<ns>.pidbox`, each node reads its own queue `<hostname>.<ns>.pidbox`, replies go
 * to the direct exchange `reply.<ns>.pidbox` with the caller's oid as routing key, read from
 * `<oid>.reply.<ns>.pidbox`. Entities are declared exactly as kombu declares them (not durable,
 * auto-delete, TTL and expiry), so Python and nori can declare the same names on RabbitMQ.
 */
import { Exchange, Queue, type TransportCapabilities } from '@nori/core';
import type { ControlOptions } from './options.js';

/** What the broker can bound (a transport without them gets plain queues). */
export type Lifetimes = Pick<TransportCapabilities, 'messageTtl' | 'queueExpires'>;

/** A command as it travels (the message body). */
export interface ControlCommand {
  method: string;
  arguments: Record<string, unknown>;
  /** Node names; null = every node. */
  destination: string[] | null;
  pattern: string | null;
  /** 'glob' or 'pcre'. */
  matcher: string | null;
  ticket?: string;
  reply_to?: { exchange: string; routing_key: string };
}

export class Mailbox {
  readonly namespace: string;
  readonly exchange: Exchange;
  readonly replyExchange: Exchange;
  readonly #ttl: number;
  readonly #expires: number;

  constructor(options: ControlOptions = {}) {
    this.namespace = options.controlExchange ?? 'celery';
    this.#ttl = options.controlQueueTtl ?? 300_000;
    this.#expires = options.controlQueueExpires ?? 10_000;
    this.exchange = new Exchange(`${this.namespace}.pidbox`, { type: 'fanout', durable: false });
    this.replyExchange = new Exchange(`reply.${this.namespace}.pidbox`, { type: 'direct', durable: false });
  }

  /** The queue a node reads commands from. */
  nodeQueue(hostname: string, can: Lifetimes): Queue {
    return new Queue(`${hostname}.${this.namespace}.pidbox`, { exchange: this.exchange, routingKey: '', ...this.#lifetime(can) });
  }

  /** The queue a caller reads replies from. */
  replyQueue(oid: string, can: Lifetimes): Queue {
    return new Queue(`${oid}.${this.replyExchange.name}`, { exchange: this.replyExchange, routingKey: oid, ...this.#lifetime(can) });
  }

  #lifetime(can: Lifetimes): { durable: false; autoDelete: true; messageTtl?: number; expires?: number } {
    return { durable: false, autoDelete: true, ...(can.messageTtl && { messageTtl: this.#ttl }), ...(can.queueExpires && { expires: this.#expires }) };
  }
}

/** kombu.matcher: does a node name match a destination pattern? */
export function matches(hostname: string, pattern: string, matcher: string): boolean {
  if (matcher === 'pcre') return new RegExp(pattern).exec(hostname)?.index === 0;
  // glob (fnmatch): * ? [seq]
  const regex = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
    .replace(/\[!/g, '[^');
  return new RegExp(`^${regex}$`).test(hostname);
}
