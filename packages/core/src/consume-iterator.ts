/**
 * `for await (const m of conn.consume(queues))`: a consumer whose handler hands each message to
 * the loop and finishes when the loop asks for the next one, so a message the loop moves on from
 * without settling is acked (as a handler's return would). Leaving the loop (break, throw, or the
 * `signal` firing) stops the consumer: prefetched messages go back to their queues, and the
 * message the loop held unsettled is requeued.
 */
import { abortError } from './abort.js';
import type { ConnectionHost } from './connection-host.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import type { Message } from './message.js';
import type { Queue } from './queue.js';

export interface ConsumeIteratorOptions<T = unknown> extends Omit<ConsumerOptions<T>, 'concurrency'> {
  /** Aborting ends the loop: a waiting `next()` rejects with `AbortError` at once and the consumer stops. */
  signal?: AbortSignal;
}

interface Waiter<T> {
  resolve(result: IteratorResult<Message<T>>): void;
  reject(error: Error): void;
}

export class ConsumeIterator<T = unknown> implements AsyncIterableIterator<Message<T>> {
  readonly #consumer: Consumer<T>;
  readonly #signal: AbortSignal | undefined;
  #started = false;
  #done = false;
  #ready: Message<T> | undefined;
  #current: Message<T> | undefined;
  #waiter: Waiter<T> | undefined;
  #finishCurrent: (() => void) | undefined;

  constructor(
    private readonly host: ConnectionHost,
    queues: ReadonlyArray<Queue | string>,
    options: ConsumeIteratorOptions<T>,
  ) {
    const { signal, ...consumerOptions } = options;
    this.#signal = signal;
    this.#consumer = new Consumer<T>(host, queues, { ...consumerOptions, concurrency: 1 }, (m) => this.#hand(m));
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  #hand(message: Message<T>): Promise<void> {
    if (this.#done) return message.release();
    return new Promise((finish) => {
      this.#finishCurrent = finish;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) {
        this.#current = message;
        waiter.resolve({ value: message, done: false });
      } else this.#ready = message;
    });
  }

  readonly #onAbort = (): void => {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(abortError(this.#signal as AbortSignal));
    void this.return();
  };

  async next(): Promise<IteratorResult<Message<T>>> {
    this.#current = undefined;
    this.#finishCurrent?.();
    this.#finishCurrent = undefined;
    if (this.#signal?.aborted) {
      await this.return();
      throw abortError(this.#signal);
    }
    if (this.#done) return { value: undefined, done: true };
    if (!this.#started) {
      this.#started = true;
      await this.#consumer.start();
    }
    const ready = this.#ready;
    this.#ready = undefined;
    if (ready) {
      this.#current = ready;
      return { value: ready, done: false };
    }
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<Message<T>>> {
    if (this.#done) return { value: undefined, done: true };
    this.#done = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    // Handed to the loop but never yielded: it goes back first in line.
    const unseen = this.#ready;
    this.#ready = undefined;
    const current = this.#current;
    this.#current = undefined;
    try {
      if (unseen && !unseen.acknowledged) await unseen.release();
      if (current && !current.acknowledged) await current.requeue();
    } catch (error) {
      this.host.logger.warn(
        { err: error, consumerTag: this.#consumer.consumerTag },
        'nori consume iterator: could not return a message on leaving the loop; the broker redelivers it',
      );
    }
    this.#finishCurrent?.();
    this.#finishCurrent = undefined;
    await this.#consumer.stop();
    this.#waiter?.resolve({ value: undefined, done: true });
    this.#waiter = undefined;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message<T>> {
    return this;
  }
}
