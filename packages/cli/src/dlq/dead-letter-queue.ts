/**
 * A dead-letter queue read, replayed and purged through the transport, the same way on every
 * broker: messages are taken without ack (basic.get, or a claim under a lease that the transport
 * renews), and every message not replayed or purged is given back, in its place, at the end. A
 * command killed half-way loses none either: RabbitMQ requeues what a closed channel held; on
 * Redis and MongoDB the lease lapses and the message is claimable again (on Redis once a nori or
 * kombu connection's sweep has put it back).
 */
import { NotFoundError } from '@nori/core';
import type { Delivery, Transport } from '@nori/core/spi';
import { deadLetterOf, replayMessage, type DeadLetter } from './dead-letter.js';

export interface Selection {
  /** Only the messages with these ids (all of the queue is read to find them). */
  ids?: ReadonlySet<string>;
  /** At most this many (of those with the ids). */
  limit?: number;
}

interface Held {
  readonly delivery: Delivery;
  readonly letter: DeadLetter;
}

export interface ReplayOutcome {
  readonly letter: DeadLetter;
  /** The queue it was sent to, or why it stayed. */
  readonly to?: string;
  readonly failure?: string;
}

export class DeadLetterQueue {
  constructor(
    private readonly transport: Transport,
    readonly name: string,
  ) {}

  /** How many messages it holds; a `NotFoundError` for a queue that does not exist. */
  async size(): Promise<number> {
    return (await this.transport.checkQueue(this.name)).messageCount;
  }

  /** The first `limit` messages, read and given back. */
  list(limit: number): Promise<DeadLetter[]> {
    return this.#holding({ limit }, async (selected) => selected.map((h) => h.letter));
  }

  /**
   * Run `fn` with the selected messages held (`ack` removes one for good), then give back every
   * message not acked, last first, so each goes back to where it was.
   */
  async #holding<T>(selection: Selection, fn: (selected: Held[], ack: (h: Held) => Promise<void>) => Promise<T>): Promise<T> {
    const held: Held[] = [];
    const acked = new Set<Held>();
    try {
      const selected: Held[] = [];
      const limit = selection.limit ?? Infinity;
      // Without ids the first `limit` are the selection; with ids, any message of the queue may be one.
      while (selected.length < limit) {
        const delivery = await this.transport.get(this.name, { noAck: false });
        if (!delivery) break;
        const h = { delivery, letter: deadLetterOf(delivery) };
        held.push(h);
        if (!selection.ids || selection.ids.has(h.letter.id)) selected.push(h);
      }
      return await fn(selected, async (h) => {
        await h.delivery.ack();
        acked.add(h);
      });
    } finally {
      for (const h of held.reverse()) if (!acked.has(h)) await h.delivery.release();
    }
  }

  /**
   * Send each selected message back to the queue it was dead-lettered from (or `to`), and remove
   * it from this queue only once the broker confirmed the publish. A message whose queue does not
   * exist, or that no queue took, stays.
   */
  async replay(selection: Selection, to?: string): Promise<ReplayOutcome[]> {
    return this.#holding(selection, async (selected, ack) => {
      const outcomes: ReplayOutcome[] = [];
      const exists = new Map<string, Promise<boolean>>();
      let returned = false;
      const onReturned = (): void => void (returned = true);
      this.transport.on('returned', onReturned);
      try {
        for (const h of selected) {
          const { delivery, letter } = h;
          const queue = to ?? letter.queue;
          if (queue === null) {
            outcomes.push({ letter, failure: 'it has no x-death record of the queue it came from (give --to)' });
            continue;
          }
          if (!exists.has(queue)) exists.set(queue, this.#exists(queue));
          if (!(await exists.get(queue))) {
            outcomes.push({ letter, failure: `queue "${queue}" does not exist` });
            continue;
          }
          returned = false;
          // One publish at a time: a `returned` event during it is this message's.
          await this.transport.publish(replayMessage(delivery), { exchange: '', routingKey: queue, mandatory: true });
          if (returned) {
            outcomes.push({ letter, failure: `no queue "${queue}" took it (the broker returned it)` });
            continue;
          }
          await ack(h);
          outcomes.push({ letter, to: queue });
        }
      } finally {
        this.transport.off('returned', onReturned);
      }
      return outcomes;
    });
  }

  /** Remove every ready message; how many there were. */
  purgeAll(): Promise<number> {
    return this.transport.purgeQueue(this.name);
  }

  /** Remove the selected messages for good. */
  async purge(selection: Selection): Promise<DeadLetter[]> {
    return this.#holding(selection, async (selected, ack) => {
      for (const h of selected) await ack(h);
      return selected.map((h) => h.letter);
    });
  }

  async #exists(queue: string): Promise<boolean> {
    try {
      await this.transport.checkQueue(queue);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }
}
