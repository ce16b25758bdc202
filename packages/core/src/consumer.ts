/**
 * Consumes from one or more queues under one prefetch budget and runs a handler per message.
 * Messages that cannot be decoded (or are not in the accept list) never reach the handler: they
 * are rejected (dead-lettered where configured), an `error` event says why, and consumption goes on.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { InvalidArgumentError } from './errors.js';
import { Message } from './message.js';
import { resolveAccept, type DecodeLimits } from './payload.js';
import { Queue } from './queue.js';
import type { Delivery, Subscription } from './transport.js';

export type MessageHandler = (message: Message) => void | Promise<void>;

export interface ConsumerOptions {
  /** Most unsettled messages at once (0 = unlimited). Default 10. */
  prefetch?: number;
  /** Handlers running at once. Default 1: messages are handled in delivery order. */
  concurrency?: number;
  /** Messages count as acked on delivery (at-most-once). */
  noAck?: boolean;
  /** Serializer names or MIME types to decode. Default ['json']. */
  accept?: readonly string[];
  /** Called instead of the default (reject + `error` event); it must settle the message. */
  onDecodeError?: (message: Message, error: Error) => void | Promise<void>;
  consumerTag?: string;
  /** Largest body as received, in bytes. */
  maxBodySize?: number;
  /** Largest body after decompression, in bytes (default 64 MiB). */
  maxDecompressedSize?: number;
  /** How long `stop()` waits for running handlers, in ms. Default 30 000. */
  stopTimeout?: number;
}

export type ConsumerEvents = {
  /** A message failed to decode or its handler threw; `message` is set when one was involved. */
  error: [error: Error, message: Message | undefined];
};

export class Consumer extends Emitter<ConsumerEvents> {
  readonly queues: readonly Queue[];
  readonly consumerTag: string;
  readonly #limits: DecodeLimits;
  readonly #prefetch: number;
  readonly #concurrency: number;
  #subscription: Subscription | undefined;
  #stopping = false;
  #waiting: Message[] = [];
  #running = 0;
  #idle: (() => void) | undefined;

  constructor(
    private readonly connection: Connection,
    queues: ReadonlyArray<Queue | string>,
    private readonly options: ConsumerOptions,
    private readonly handler: MessageHandler,
  ) {
    super(connection.logger);
    if (queues.length === 0) throw new InvalidArgumentError('a consumer needs at least one queue');
    this.queues = queues.map((q) => (typeof q === 'string' ? new Queue(q) : q));
    this.#prefetch = options.prefetch ?? 10;
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.#prefetch) || this.#prefetch < 0) throw new InvalidArgumentError(`prefetch must be a whole number >= 0, got ${this.#prefetch}`);
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) throw new InvalidArgumentError(`concurrency must be a whole number >= 1, got ${this.#concurrency}`);
    this.consumerTag = options.consumerTag ?? `nori-${randomUUID()}`;
    this.#limits = {
      accept: resolveAccept(options.accept ?? ['json']),
      ...(options.maxBodySize !== undefined && { maxBodySize: options.maxBodySize }),
      ...(options.maxDecompressedSize !== undefined && { maxDecompressedSize: options.maxDecompressedSize }),
    };
  }

  get running(): boolean {
    return this.#subscription !== undefined;
  }

  /** Declare the queues and start receiving. */
  async start(): Promise<void> {
    if (this.#subscription) return;
    this.#stopping = false;
    const transport = await this.connection.transport();
    for (const q of this.queues) await this.connection.declare(q);
    this.#subscription = await transport.consume(
      this.queues.map((q) => q.name),
      { prefetch: this.#prefetch, noAck: this.options.noAck ?? false, consumerTag: this.consumerTag },
      (delivery) => this.#receive(delivery),
    );
    this.connection.track(this);
  }

  /**
   * Stop fetching, return prefetched messages that no handler started to the front of their
   * queues (in order), and wait (up to `stopTimeout`) for running handlers to finish.
   */
  async stop(): Promise<void> {
    const subscription = this.#subscription;
    if (!subscription) return;
    this.#stopping = true;
    await subscription.cancel();
    const unstarted = this.#waiting;
    this.#waiting = [];
    for (const m of unstarted.reverse()) await m.release().catch((e: unknown) => this.emit('error', e as Error, m));
    if (this.#running > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#idle = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.stopTimeout ?? 30_000))),
      ]);
      clearTimeout(timer);
    }
    this.#subscription = undefined;
    this.connection.untrack(this);
  }

  #receive(delivery: Delivery): void {
    this.#waiting.push(new Message(delivery, this.#limits, this.options.noAck ?? false));
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopping && this.#running < this.#concurrency && this.#waiting.length > 0) {
      const message = this.#waiting.shift() as Message;
      this.#running++;
      void this.#handle(message).then(this.#finished);
    }
  }

  readonly #finished = (): void => {
    this.#running--;
    if (this.#running === 0) this.#idle?.();
    this.#pump();
  };

  /** Never rejects: every failure is settled and reported inside. */
  async #handle(message: Message): Promise<void> {
    try {
      message.decode();
    } catch (error) {
      await this.#settleFailure(message, error as Error, this.options.onDecodeError);
      return;
    }
    try {
      await this.handler(message);
    } catch (error) {
      await this.#settleFailure(message, error as Error, undefined);
      return;
    }
    // noAck messages are settled for bookkeeping only: it frees their prefetch slot.
    if (message.noAck && !message.acknowledged) await message.ack();
  }

  async #settleFailure(message: Message, error: Error, custom: ConsumerOptions['onDecodeError']): Promise<void> {
    try {
      if (custom) await custom(message, error);
      else this.emit('error', error, message);
      if (!message.acknowledged) await message.reject();
    } catch (settleError) {
      this.emit('error', settleError as Error, message);
    }
  }
}
