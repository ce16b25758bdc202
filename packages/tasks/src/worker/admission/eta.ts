/**
 * A task that must not run before its ETA, as Celery's worker keeps one: **held** here, unacked
 * under the transport's renewed lease (no visibility timeout can hand it to another worker), and
 * run when due, ahead of the tasks without an ETA waiting for a slot. Holding is bounded:
 *
 * - in time, `etaHoldMax`: an ETA further away is **parked**, republished unchanged (same bytes,
 *   headers and id) to wait in the broker (the delayed set, or RabbitMQ's delay levels; see
 *   park-delay.ts) and acked, so it is never in flight longer than that (RabbitMQ closes the
 *   channel of a delivery unacked for its `consumer_timeout`, 30 min). It is parked to come back
 *   `etaHoldMax / 2` before it is due, so it is held for the rest and a backlog in its queue up to
 *   that long does not make it late.
 * - in number, `etaHoldLimit`: a held message keeps its place in the prefetch window, so past
 *   that many the next ETA is parked rather than starving the slots of runnable tasks. The last
 *   second before an ETA is always held: a park is not worth it.
 *
 * A park the broker refuses is held instead (never run early). A warm stop ends every hold and
 * the messages go back to the front of their queues; it also gives back what is parked in its
 * queues' delayed sets (Redis), which Celery's workers never read (see `returnParked`).
 */
import { sleep, type Connection, type Message, type OutgoingMessage, type Queue } from '@nori/core';
import type { Hooks } from '../events.js';
import type { Job } from '../job.js';
import { settle } from '../settle.js';
import type { WorkerState } from '../state.js';
import { parkDelay } from './park-delay.js';

/** A wait this short is always held. */
const ALWAYS_HOLD_MS = 1000;

export interface EtaLimits {
  /** Hold ETAs due within this many ms; park later ones. */
  holdMax: number;
  /** Most messages held for their ETA at once. */
  holdLimit: number;
}

export class EtaWait {
  readonly #connection: Connection;
  readonly #state: WorkerState;
  readonly #limits: EtaLimits;
  readonly #hooks: Hooks;
  readonly #report: (error: Error) => void;
  /** Messages held for their ETA now. */
  #held = 0;

  constructor(connection: Connection, state: WorkerState, limits: EtaLimits, hooks: Hooks) {
    this.#connection = connection;
    this.#state = state;
    this.#limits = limits;
    this.#hooks = hooks;
    this.#report = (error) => hooks.emit('error', error);
  }

  /** Holds the job until `waitMs` passed, or parks it: true when it was parked (it is someone else's now). Rejects with STOPPING on a warm stop. */
  async wait(job: Job, waitMs: number): Promise<boolean> {
    if (waitMs <= 0) return false;
    const { holdMax, holdLimit } = this.#limits;
    const hold = waitMs <= ALWAYS_HOLD_MS || (waitMs <= holdMax && this.#held < holdLimit);
    if (!hold) {
      const started = Date.now();
      try {
        // From afar, back half the horizon early (to be held for the rest); else when due.
        await this.#park(job.message, waitMs > holdMax ? waitMs - holdMax / 2 : waitMs);
        this.#hooks.emit('task-parked', job.request, { eta: new Date(started + waitMs) });
        return true;
      } catch (error) {
        // Not parked (the broker refused the delayed publish): held instead, unacked.
        this.#report(error as Error);
        waitMs -= Date.now() - started;
      }
    }
    this.#held++;
    try {
      // A timer may fire a millisecond before the wall clock says it is due: never start early.
      const due = Date.now() + waitMs;
      for (let left = waitMs; left > 0; left = due - Date.now()) await sleep(left, this.#state.stopping);
    } finally {
      this.#held--;
    }
    return false;
  }

  /** Republish the message as received to wait `delayMs` in the broker, then ack it. */
  async #park(message: Message, delayMs: number): Promise<void> {
    const transport = await this.#connection.transport();
    const outgoing: OutgoingMessage = {
      body: message.rawBody,
      contentType: message.contentType ?? 'application/data',
      contentEncoding: message.contentEncoding ?? 'binary',
      headers: message.headers,
      properties: message.properties,
    };
    const delay = parkDelay(delayMs, transport.capabilities.nativeDelay);
    await transport.publish(outgoing, { exchange: '', routingKey: message.queue, mandatory: false, delay });
    await settle(message, 'ack', this.#report);
  }
}

/**
 * Moves what waits in the delayed sets of these queues (parked ETA tasks, and those sent with
 * `publishDelayed`) back into them, at the front, the soonest due first: Celery's workers on the
 * same queues never read nori's delayed set, and hold an ETA task until due by themselves. Nori
 * workers still consuming park them again. A no-op where parked messages flow back on their own
 * (RabbitMQ's delay levels) or no Celery worker reads the queue (MongoDB, memory). Returns how many.
 */
export async function returnParked(connection: Connection, queues: readonly Queue[]): Promise<number> {
  const transport = await connection.transport();
  let moved = 0;
  for (const queue of queues) moved += (await transport.promoteDelayed?.(queue.name)) ?? 0;
  return moved;
}
