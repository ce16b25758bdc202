/**
 * `for await (const m of conn.consume(queues))`: a consumer whose handler hands each message to
 * the loop and finishes when the loop asks for the next one. Breaking out stops the consumer,
 * which returns prefetched messages to their queues.
 */
import type { Connection } from './connection.js';
import type { Consumer, ConsumerOptions } from './consumer.js';
import type { Message } from './message.js';
import type { Queue } from './queue.js';

export class ConsumeIterator implements AsyncIterableIterator<Message> {
  readonly #consumer: Consumer;
  #started = false;
  #done = false;
  #ready: Message | undefined;
  #waiter: ((result: IteratorResult<Message>) => void) | undefined;
  #finishCurrent: (() => void) | undefined;

  constructor(connection: Connection, queues: ReadonlyArray<Queue | string>, options: Omit<ConsumerOptions, 'concurrency'>) {
    this.#consumer = connection.consumer(queues, { ...options, concurrency: 1 }, (m) => this.#hand(m));
  }

  #hand(message: Message): Promise<void> {
    return new Promise((finish) => {
      this.#finishCurrent = finish;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter({ value: message, done: false });
      else this.#ready = message;
    });
  }

  async next(): Promise<IteratorResult<Message>> {
    this.#finishCurrent?.();
    this.#finishCurrent = undefined;
    if (this.#done) return { value: undefined, done: true };
    if (!this.#started) {
      this.#started = true;
      await this.#consumer.start();
    }
    const ready = this.#ready;
    this.#ready = undefined;
    if (ready) return { value: ready, done: false };
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  async return(): Promise<IteratorResult<Message>> {
    this.#done = true;
    // Handed to the loop but never yielded: it goes back first in line.
    const unseen = this.#ready;
    this.#ready = undefined;
    if (unseen && !unseen.acknowledged) await unseen.release();
    this.#finishCurrent?.();
    this.#finishCurrent = undefined;
    await this.#consumer.stop();
    this.#waiter?.({ value: undefined, done: true });
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }
}
