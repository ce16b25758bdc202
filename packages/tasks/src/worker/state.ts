/**
 * What one worker holds (Celery's worker/state.py): the jobs it received and has not finished
 * with, those running, the tasks it started by name, the ids it was told not to run, its
 * concurrency slots, and the signal a warm stop aborts (everything waiting for an ETA, a
 * rate-limit token or a slot gives its message back).
 */
import { setMaxListeners } from 'node:events';
import { RevokedSet } from '../control/revoked.js';
import { Semaphore } from './admission/semaphore.js';
import type { Job } from './job.js';

/** The reason waits end with when a warm stop begins. */
export const STOPPING = new Error('worker stopping');

export class WorkerState {
  /** Received and not yet done with (reserved, waiting for an ETA, running, storing its result). */
  readonly held = new Set<Job>();
  readonly running = new Set<Job>();
  /** Tasks started, by name (Celery's `total` in stats). */
  readonly total = new Map<string, number>();
  /** Ids not to run (Celery's revoked set; remote control adds to it). */
  readonly revoked = new RevokedSet();
  readonly #stopping = new AbortController();
  readonly slots: Semaphore;

  constructor(concurrency: number) {
    this.slots = new Semaphore(concurrency, this.#stopping.signal);
    // Messages waiting for a rate-limit token or a near ETA each listen on this signal: up to prefetch listeners.
    setMaxListeners(0, this.#stopping.signal);
  }

  /** Aborts (with STOPPING) when a warm stop begins. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  stop(): void {
    this.#stopping.abort(STOPPING);
  }

  /** Gives the job's slot back (once). */
  releaseSlot(job: Job): void {
    if (job.holding) this.slots.release();
    job.holding = false;
  }

  expired(job: Job): boolean {
    return job.request.expires !== undefined && job.request.expires.getTime() <= Date.now();
  }

  /** Expired, or revoked by id (Celery's revoked set): not to run. */
  cancelled(job: Job): boolean {
    return this.expired(job) || this.revoked.has(job.request.id);
  }
}
