/**
 * Admission (Celery's strategy): what happens to a task message between its delivery and its
 * run. Each path ends with the message settled here, or handed to the tracer, which settles it:
 *
 *   delivered while a warm stop begins        → released (back to the front of its queue)
 *   cannot be decoded / not accepted          → rejected ('error' event)
 *   not a Celery task message                 → rejected (task-rejected)
 *   a task this worker does not know          → FAILURE NotRegistered stored, rejected (task-rejected)
 *   its lease lapsed more than maxLapses times → FAILURE WorkerLostError stored, rejected (the tracer, task-failed)
 *   expired, or revoked by id                 → REVOKED stored, acked (task-revoked)
 *   ETA ahead                                 → held (near, within the hold limit), or parked: republished to wait in the broker, acked (task-parked)
 *   over its rate limit, or no slot free      → waits, unacked
 *   a warm stop while it waits                → released
 *   revoked while it waited                   → REVOKED stored, acked
 *   admitted                                  → the tracer runs it and settles it by the ack matrix
 */
import { silentLogger, sleep, type Message, type RedeliveryLimitError } from '@nori/core';
import { NotRegistered, WorkerLostError } from '../../errors.js';
import { parseTaskMessage, type TaskRequest } from '../../protocol/message.js';
import type { Task, TaskHandler } from '../../task.js';
import type { Hooks } from '../events.js';
import type { WorkerHost } from '../host.js';
import { Job } from '../job.js';
import { settle } from '../settle.js';
import { STOPPING, type WorkerState } from '../state.js';
import { storeResult, type Tracer } from '../tracer.js';
import type { EtaWait } from './eta.js';
import { RateLimiter } from './rate-limit.js';

export class Admission {
  readonly #host: WorkerHost;
  readonly #state: WorkerState;
  readonly #eta: EtaWait;
  readonly #tracer: Tracer;
  readonly #hooks: Hooks;
  readonly #hostname: string;
  readonly #report: (error: Error) => void;
  readonly #limiters = new Map<string, RateLimiter | null>();

  constructor(host: WorkerHost, state: WorkerState, eta: EtaWait, tracer: Tracer, hooks: Hooks, hostname: string) {
    this.#host = host;
    this.#state = state;
    this.#eta = eta;
    this.#tracer = tracer;
    this.#hooks = hooks;
    this.#hostname = hostname;
    this.#report = (error) => hooks.emit('error', error);
  }

  /** A message the consumer could not decode (or does not accept): rejected. */
  refuse(message: Message, error: Error): Promise<void> {
    this.#report(error);
    return settle(message, 'reject', this.#report);
  }

  /**
   * Never rejects: every path settles the message, here or in the tracer. Not an async function:
   * the common task (not revoked or expired, no ETA, no rate limit, a slot free) goes straight to
   * the tracer, without an async frame of its own; the others wait in `#admit`.
   */
  receive(message: Message): Promise<void> {
    // Delivered between the start of a warm stop and the cancel taking effect: give it back.
    if (this.#state.stopping.aborted) return settle(message, 'release', this.#report);
    let request: TaskRequest;
    try {
      request = parseTaskMessage(message.headers, message.body, message.properties);
    } catch (error) {
      this.#hooks.emit('task-rejected', undefined, { requeue: false, reason: error as Error });
      return settle(message, 'reject', this.#report);
    }
    const task = this.#host.tasks.get(request.name);
    // Celery: reject (no requeue) and store NotRegistered as the failure.
    if (!task) return this.#rejectWith(message, request, new NotRegistered(request.name));
    this.#hooks.emit('task-received', request);
    const job = this.#job(message, request, task);
    this.#state.held.add(job);
    if (request.eta || this.#state.cancelled(job) || this.#limiter(task) || !this.#state.slots.tryAcquire()) return this.#admit(job);
    return this.#trace(job);
  }

  /** The paths that wait: revoked or expired, an ETA, a rate limit, no slot free. */
  async #admit(job: Job): Promise<void> {
    const { message, request, task } = job;
    let admitted = false;
    try {
      if (this.#state.cancelled(job)) return await this.#tracer.revoke(job);
      if (request.eta && (await this.#eta.wait(job, request.eta.getTime() - Date.now()))) return;
      const limiter = this.#limiter(task);
      if (limiter) {
        const wait = limiter.reserve();
        if (wait > 0) await sleep(wait, this.#state.stopping);
      }
      // A task whose ETA came takes the next free slot, ahead of the tasks without one (Celery runs it when due).
      if (!this.#state.slots.tryAcquire()) await this.#state.slots.acquire(request.eta !== undefined);
      admitted = true;
    } catch (error) {
      if (error === STOPPING) return await settle(message, 'release', this.#report);
      // Nothing here throws otherwise: should it, the message is rejected (dead-lettered where
      // configured) rather than given back to fail the same way for ever.
      this.#report(error as Error);
      return await settle(message, 'reject', this.#report);
    } finally {
      if (!admitted) this.#state.held.delete(job);
    }
    // Revoked while it waited: not run.
    return this.#trace(job, this.#state.cancelled(job));
  }

  /** The tracer runs a job that holds a slot (or revokes it); the slot goes back, and the job is done with, whatever happens. */
  #trace(job: Job, revoked = false): Promise<void> {
    job.holding = true;
    let traced: Promise<void>;
    try {
      traced = revoked ? this.#tracer.revoke(job) : this.#tracer.trace(job);
    } catch (error) {
      traced = Promise.reject(error as Error);
    }
    return traced.then(
      () => this.#done(job),
      (error: unknown) => {
        this.#done(job);
        throw error;
      },
    );
  }

  #done(job: Job): void {
    this.#state.releaseSlot(job);
    this.#state.held.delete(job);
  }

  /**
   * A message whose lease lapsed more than `maxLapses` times (core's consumer hands it here instead
   * of to `receive`): the workers holding it died or were stuck, so it is not run again. Its task
   * fails with WorkerLostError saying why (stored, so `get()` rejects), and it is rejected.
   */
  async lapsed(message: Message, limit: RedeliveryLimitError, maxLapses: number): Promise<void> {
    let request: TaskRequest;
    try {
      await message.prepare();
      request = parseTaskMessage(message.headers, message.body, message.properties);
    } catch {
      this.#report(limit);
      return settle(message, 'reject', this.#report);
    }
    const error = new WorkerLostError(
      `task ${request.name}[${request.id}]: its lease lapsed ${message.lapses} times (the worker holding it died, or its event loop was stuck ` +
        `past the transport's maxBlockedMs), more than the worker's maxLapses (${maxLapses}): not run again, rejected`,
      { cause: limit },
    );
    const task = this.#host.tasks.get(request.name);
    if (!task) return this.#rejectWith(message, request, error);
    return this.#tracer.lapsed(this.#job(message, request, task), error);
  }

  /** Not for this worker (unknown task): FAILURE `error` stored, rejected. */
  async #rejectWith(message: Message, request: TaskRequest, error: Error): Promise<void> {
    await storeResult(this.#host, request, 'FAILURE', error, null, this.#report);
    this.#hooks.emit('task-rejected', request, { requeue: false, reason: error });
    return settle(message, 'reject', this.#report);
  }

  #job(message: Message, request: TaskRequest, task: Task<TaskHandler>): Job {
    return new Job(message, request, task, this.#hostname, this.#host.conf.connection.logger ?? silentLogger);
  }

  /** Forget the rate limiter of a task whose rateLimit changed. */
  resetRateLimit(taskName: string): void {
    this.#limiters.delete(taskName);
  }

  #limiter(task: Task<TaskHandler>): RateLimiter | null {
    let limiter = this.#limiters.get(task.name);
    if (limiter === undefined) {
      limiter = task.policy.rateLimit === undefined ? null : new RateLimiter(task.policy.rateLimit);
      this.#limiters.set(task.name, limiter);
    }
    return limiter;
  }
}
