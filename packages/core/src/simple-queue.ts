/**
 * kombu's SimpleQueue / SimpleBuffer: a queue with put/get, for scripts and tests. `get` fetches
 * one message (basic.get), and when the queue is empty waits for one with a prefetch-1
 * subscription, so nothing is prefetched beyond the message returned.
 */
import { raceAbort, throwIfAborted } from './abort.js';
import type { ConnectionHost } from './connection-host.js';
import { asyncDispose } from './dispose.js';
import { QueueEmptyError } from './errors.js';
import { setLongTimeout } from './long-timer.js';
import { Exchange, type ExchangeOptions } from './exchange.js';
import { Message } from './message.js';
import { resolveAccept, type DecodeLimits } from './payload.js';
import { Producer, type PublishOptions } from './producer.js';
import { Queue, type QueueOptions } from './queue.js';
import type { StandardSchemaV1 } from './schema.js';
import type { Delivery, Transport } from './spi/transport.js';

export interface SimpleQueueOptions<T = unknown> {
  /** Checks each body `get` returns; a body that fails is rejected (dead-lettered where configured) and `get` throws `SchemaValidationError`. */
  schema?: StandardSchemaV1<unknown, T>;
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
  /** Stop waiting: rejects with `AbortError` at once; a message that arrives meanwhile goes back to the queue. */
  signal?: AbortSignal;
}

export class SimpleQueue<T = unknown> {
  readonly queue: Queue;
  readonly exchange: Exchange;
  readonly #limits: DecodeLimits;

  constructor(
    private readonly host: ConnectionHost,
    queue: Queue | string,
    private readonly options: SimpleQueueOptions<T>,
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

  async put(body: T, options: PutOptions = {}): Promise<void> {
    const binding = this.queue.bindings[0];
    await new Producer(this.host, {
      serializer: this.options.serializer ?? 'json',
      ...(this.options.compression !== undefined && { compression: this.options.compression }),
    }).publish(body, {
      ...(this.buffer && { deliveryMode: 1 as const }),
      ...options,
      exchange: this.exchange,
      routingKey: binding?.routingKey ?? this.queue.name,
      declare: [this.queue],
    });
  }

  /** The next message; rejects with `QueueEmptyError` when none comes within `timeout`, with `AbortError` when `signal` fires. */
  get(options: GetOptions = {}): Promise<Message<T>> {
    const { signal } = options;
    return raceAbort(this.#get(options), signal, (message) => this.#giveBack(message));
  }

  async #get(options: GetOptions): Promise<Message<T>> {
    throwIfAborted(options.signal);
    await this.host.declare(this.queue);
    const transport = await this.host.transport();
    const noAck = this.buffer;
    let delivery = await transport.get(this.queue.name, { noAck });
    if (!delivery && (options.block ?? true) && options.timeout !== 0 && !options.signal?.aborted) {
      delivery = await this.#waitForOne(transport, options.timeout, options.signal);
    }
    if (!delivery) throw new QueueEmptyError(this.queue.name);
    const message = new Message<T>(delivery, this.#limits, noAck);
    await message.prepare();
    if (this.options.schema) {
      try {
        await message.parse(this.options.schema);
      } catch (error) {
        await message.reject();
        throw error;
      }
    }
    return message;
  }

  getNowait(): Promise<Message<T>> {
    return this.get({ block: false });
  }

  /** Waits on a prefetch-1 subscription; a delivery that comes after the wait ended goes back to the queue. */
  async #waitForOne(transport: Transport, timeout: number | undefined, signal: AbortSignal | undefined): Promise<Delivery | undefined> {
    let settled = false;
    let resolveFirst!: (d: Delivery | undefined) => void;
    const first = new Promise<Delivery | undefined>((resolve) => (resolveFirst = resolve));
    const end = (delivery: Delivery | undefined): void => {
      if (settled) {
        if (delivery) this.#giveBack(new Message(delivery, this.#limits, this.buffer));
        return;
      }
      settled = true;
      resolveFirst(delivery);
    };
    const giveUp = (): void => end(undefined);
    const subscription = await transport.consume(
      [this.queue.name],
      { prefetch: 1, noAck: this.buffer, consumerTag: `simple-${this.queue.name}-${Date.now()}` },
      end,
    );
    const timer = timeout === undefined ? undefined : setLongTimeout(giveUp, timeout);
    signal?.addEventListener('abort', giveUp, { once: true });
    if (signal?.aborted) giveUp();
    const delivery = await first;
    timer?.clear();
    signal?.removeEventListener('abort', giveUp);
    await subscription.cancel();
    return delivery;
  }

  /** A message nobody will get: front of its queue again. */
  #giveBack(message: Message<T>): void {
    message
      .release()
      .catch((error: unknown) =>
        this.host.logger.warn({ err: error, queue: this.queue.name }, 'nori simple queue: could not return an unclaimed message; the broker redelivers it'),
      );
  }

  /** Ready messages in the queue. */
  qsize(): Promise<number> {
    return this.host.queueSize(this.queue);
  }

  /** Remove every ready message; returns how many. */
  clear(): Promise<number> {
    return this.host.purge(this.queue);
  }

  /** Nothing is held between calls; kept for kombu's API shape. */
  async close(): Promise<void> {}

  /** `await using queue = conn.simpleQueue(...)`: the same as `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }
}
