/**
 * kombu's SimpleQueue / SimpleBuffer: a queue with put/get, for scripts and tests. `get` fetches
 * one message (basic.get), and when the queue is empty waits for one with a prefetch-1
 * subscription, so nothing is prefetched beyond the message returned.
 */
import type { Connection } from './connection.js';
import { QueueEmptyError } from './errors.js';
import { Exchange, type ExchangeOptions } from './exchange.js';
import { Message } from './message.js';
import { resolveAccept, type DecodeLimits } from './payload.js';
import type { PublishOptions } from './producer.js';
import { Queue, type QueueOptions } from './queue.js';
import type { Delivery, Transport } from './transport.js';

export interface SimpleQueueOptions {
  serializer?: string;
  compression?: string;
  /** Default ['json']. */
  accept?: readonly string[];
  queueOptions?: QueueOptions;
  exchangeOptions?: ExchangeOptions;
}

export type PutOptions = Omit<PublishOptions, 'exchange' | 'routingKey' | 'declare'>;

export interface GetOptions {
  /** Wait at most this many ms (default: wait until a message comes). */
  timeout?: number;
  /** false: return at once (`getNowait`). Default true. */
  block?: boolean;
}

export class SimpleQueue {
  readonly queue: Queue;
  readonly exchange: Exchange;
  readonly #limits: DecodeLimits;

  constructor(
    private readonly connection: Connection,
    queue: Queue | string,
    private readonly options: SimpleQueueOptions,
    /** SimpleBuffer: transient messages, auto-deleted queue, acked on receipt. */
    readonly buffer: boolean,
  ) {
    if (queue instanceof Queue) {
      this.queue = queue;
      this.exchange = queue.bindings[0]?.exchange ?? Exchange.default;
    } else {
      this.exchange = new Exchange(queue, { type: 'direct', durable: !buffer, autoDelete: buffer, ...options.exchangeOptions });
      this.queue = new Queue(queue, { exchange: this.exchange, routingKey: queue, durable: !buffer, autoDelete: buffer, ...options.queueOptions });
    }
    this.#limits = { accept: resolveAccept(options.accept ?? ['json']) };
  }

  get name(): string {
    return this.queue.name;
  }

  async put(body: unknown, options: PutOptions = {}): Promise<void> {
    const binding = this.queue.bindings[0];
    await this.connection.producer({ serializer: this.options.serializer ?? 'json', ...(this.options.compression !== undefined && { compression: this.options.compression }) }).publish(body, {
      ...(this.buffer && { deliveryMode: 1 as const }),
      ...options,
      exchange: this.exchange,
      routingKey: binding?.routingKey ?? this.queue.name,
      declare: [this.queue],
    });
  }

  /** The next message; rejects with `QueueEmptyError` when none comes within `timeout`. */
  async get(options: GetOptions = {}): Promise<Message> {
    await this.connection.declare(this.queue);
    const transport = await this.connection.transport();
    const noAck = this.buffer;
    let delivery = await transport.get(this.queue.name, { noAck });
    if (!delivery && (options.block ?? true) && options.timeout !== 0) delivery = await this.#waitForOne(transport, options.timeout);
    if (!delivery) throw new QueueEmptyError(this.queue.name);
    return new Message(delivery, this.#limits, noAck);
  }

  getNowait(): Promise<Message> {
    return this.get({ block: false });
  }

  async #waitForOne(transport: Transport, timeout: number | undefined): Promise<Delivery | undefined> {
    let resolveFirst!: (d: Delivery | undefined) => void;
    const first = new Promise<Delivery | undefined>((resolve) => (resolveFirst = resolve));
    const subscription = await transport.consume([this.queue.name], { prefetch: 1, noAck: this.buffer, consumerTag: `simple-${this.queue.name}-${Date.now()}` }, (d) => resolveFirst(d));
    const timer = timeout === undefined ? undefined : setTimeout(() => resolveFirst(undefined), timeout);
    const delivery = await first;
    clearTimeout(timer);
    await subscription.cancel();
    return delivery;
  }

  /** Ready messages in the queue. */
  qsize(): Promise<number> {
    return this.connection.queueSize(this.queue);
  }

  /** Remove every ready message; returns how many. */
  clear(): Promise<number> {
    return this.connection.purge(this.queue);
  }

  /** Nothing is held between calls; kept for kombu's API shape. */
  async close(): Promise<void> {}
}
