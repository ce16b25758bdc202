/**
 * A task that must not run before its ETA: one due within `etaHoldMax` waits here, unacked under
 * the transport's renewed lease; one due later is parked: republished unchanged (same bytes,
 * headers and id) into the broker's delayed set (or RabbitMQ's delay levels, see park-delay.ts),
 * then acked, so it is never in flight while it waits. A park the broker refuses is held here instead.
 */
import { sleep, type Connection, type Message, type OutgoingMessage } from '@nori/core';
import type { Hooks } from '../events.js';
import type { Job } from '../job.js';
import { settle } from '../settle.js';
import type { WorkerState } from '../state.js';
import { parkDelay } from './park-delay.js';

export class EtaWait {
  readonly #connection: Connection;
  readonly #state: WorkerState;
  readonly #holdMax: number;
  readonly #hooks: Hooks;
  readonly #report: (error: Error) => void;

  constructor(connection: Connection, state: WorkerState, holdMax: number, hooks: Hooks) {
    this.#connection = connection;
    this.#state = state;
    this.#holdMax = holdMax;
    this.#hooks = hooks;
    this.#report = (error) => hooks.emit('error', error);
  }

  /** Waits out `waitMs` or parks the message; true when it was parked (it is someone else's now). Rejects with STOPPING on a warm stop. */
  async wait(job: Job, waitMs: number): Promise<boolean> {
    if (waitMs <= 0) return false;
    const started = Date.now();
    if (waitMs <= this.#holdMax) {
      await sleep(waitMs, this.#state.stopping);
      return false;
    }
    try {
      await this.#park(job.message, waitMs);
    } catch (error) {
      // Not parked (the broker refused the delayed publish): hold it here instead, unacked.
      this.#report(error as Error);
      await sleep(Math.max(0, waitMs - (Date.now() - started)), this.#state.stopping);
      return false;
    }
    this.#hooks.emit('task-parked', job.request, { eta: new Date(started + waitMs) });
    return true;
  }

  /** Republish the message as received to wait out its ETA in the broker, then ack it. */
  async #park(message: Message, waitMs: number): Promise<void> {
    const transport = await this.#connection.transport();
    const outgoing: OutgoingMessage = {
      body: message.rawBody,
      contentType: message.contentType ?? 'application/data',
      contentEncoding: message.contentEncoding ?? 'binary',
      headers: message.headers,
      properties: message.properties,
    };
    const delay = parkDelay(waitMs, transport.capabilities.nativeDelay);
    await transport.publish(outgoing, { exchange: '', routingKey: message.queue, mandatory: false, delay });
    await settle(message, 'ack', this.#report);
  }
}
