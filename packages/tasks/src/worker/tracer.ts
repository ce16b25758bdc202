/**
 * The tracer (Celery's trace.py): runs an admitted task and turns its outcome into the after-task
 * steps, called here explicitly and always in this order, before the message is settled:
 *
 *   1. the result stored (SUCCESS, RETRY or FAILURE; REVOKED for a task that is not to run); an
 *      outcome the backend cannot encode is a FAILURE with Celery's EncodeError instead
 *   2. the chord part counted (a header task of a chord on a Redis backend; if it cannot be, the
 *      message goes back instead of being acked, and the re-run counts it: counting is idempotent)
 *   3. the once-lock released (a task with `once`; at the start instead with `unlockBefore`)
 *   4. the follow-ups published (the retry, link callbacks and the chain's next step, link_error callbacks)
 *   5. the hooks emitted (task-succeeded, task-failed, ...: the wire events listen there)
 *   6. the message settled, by the ack matrix (settle.ts)
 *
 * A kill at any point re-runs the task from its message rather than losing a step.
 */
import { performance } from 'node:perf_hooks';
import { EncodeError } from '@nori/core';
import { retryDecision } from '../context.js';
import { Ignore, Reject, Retry, SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded, WorkerLostError } from '../errors.js';
import { tracebackOf, unencodable } from '../protocol/exception.js';
import type { TaskRequest } from '../protocol/message.js';
import { resultOrigin } from '../backends/backend.js';
import type { TaskState } from '../states.js';
import { taskRunChannel, type TaskRunState } from '../events/tracing.js';
import type { Hooks } from './events.js';
import { isThenable, type Execution } from './execution.js';
import { publishRetry, sendCallbacks, sendErrbacks } from './follow-ups.js';
import type { WorkerHost } from './host.js';
import type { Job } from './job.js';
import { retryCountdown } from './retry-backoff.js';
import { settle, SETTLED, settlementFor, type Outcome, type Settlement } from './settle.js';
import type { WorkerState } from './state.js';

export class Tracer {
  readonly #host: WorkerHost;
  readonly #state: WorkerState;
  readonly #execution: Execution;
  readonly #hooks: Hooks;
  readonly #hostname: string;
  readonly #transport: string;
  readonly #report: (error: Error) => void;

  constructor(host: WorkerHost, state: WorkerState, execution: Execution, hooks: Hooks, hostname: string, transport: string) {
    this.#host = host;
    this.#state = state;
    this.#execution = execution;
    this.#hooks = hooks;
    this.#hostname = hostname;
    this.#transport = transport;
    this.#report = (error) => hooks.emit('error', error);
  }

  /** Runs a job (see #run), through the `nori:task:run` tracing channel while it has subscribers. */
  trace(job: Job): Promise<void> {
    if (!taskRunChannel.hasSubscribers) return this.#run(job);
    const { request, message } = job;
    job.traced = {
      name: request.name,
      id: request.id,
      retries: request.retries,
      headers: message.headers,
      hostname: this.#hostname,
      queue: message.queue,
      transport: this.#transport,
    };
    return taskRunChannel.tracePromise(this.#run, job.traced, this, job);
  }

  /** Runs a job that holds a slot; the slot goes back once the handler is done (storing and settling need none). */
  #run(job: Job): Promise<void> {
    const { policy, task } = job;
    if (!policy.acksLate || policy.trackStarted || task.options.once?.unlockBefore) return this.#before(job).then(() => this.#execute(job));
    return this.#execute(job);
  }

  /** The steps some tasks take before they run: the early ack, STARTED stored, the once-lock released (`unlockBefore`). */
  async #before(job: Job): Promise<void> {
    const { message, request, policy, task } = job;
    if (!policy.acksLate) await settle(message, 'ack', this.#report);
    if (policy.trackStarted) await this.#store(request, 'STARTED', { pid: process.pid, hostname: this.#hostname }, null);
    if (task.options.once?.unlockBefore) await this.#releaseOnce(job);
  }

  /**
   * The handler, then its outcome's steps. Not an async function: a handler that returned
   * synchronously (a trivial task) costs no promise, closure or async frame here.
   */
  #execute(job: Job): Promise<void> {
    const { request } = job;
    this.#state.running.add(job);
    job.startedAt = Date.now();
    this.#state.total.set(request.name, (this.#state.total.get(request.name) ?? 0) + 1);
    this.#hooks.emit('task-started', request);
    const started = performance.now();
    let value: unknown;
    try {
      value = this.#execution.run(job);
    } catch (error) {
      return this.#ended(job, error, true, started);
    }
    if (!isThenable(value)) return this.#ended(job, value, false, started);
    return Promise.resolve(value).then(
      (v) => this.#ended(job, v, false, started),
      (error: unknown) => this.#ended(job, error, true, started),
    );
  }

  /** The handler returned `result` (or threw it): its outcome classified (`autoretryFor` first), then the after-task steps. */
  #ended(job: Job, result: unknown, threw: boolean, started: number): Promise<void> {
    const value = threw ? autoretry(job, softLimitOf(job, result)) : result;
    const outcome: Outcome = threw ? classify(value) : 'success';
    this.#state.releaseSlot(job);
    if (job.abandoned) return SETTLED;
    this.#state.running.delete(job);
    if (job.abortReason instanceof TaskRevokedError) {
      traceOutcome(job, 'REVOKED');
      return this.revoke(job, true);
    }
    traceOutcome(job, RUN_STATES[outcome], outcome === 'retry' ? ((value as Retry).exc ?? value) : outcome === 'success' ? undefined : value);
    return this.#finish(job, outcome, value, performance.now() - started);
  }

  /** Not to run (expired, revoked) or ended while running (`terminated`): REVOKED stored, the message acked. */
  async revoke(job: Job, terminated = false): Promise<void> {
    const { request, message } = job;
    const expired = !terminated && this.#state.expired(job);
    await this.#store(request, 'REVOKED', new TaskRevokedError(terminated ? 'terminated' : expired ? 'expired' : 'revoked'), null);
    if (job.task.options.once && !job.task.options.once.unlockBefore) await this.#releaseOnce(job);
    this.#hooks.emit('task-revoked', request, { expired, terminated });
    await settle(message, 'ack', this.#report);
  }

  /**
   * Not run again: its lease lapsed more than `maxLapses` times (the workers holding it died or were
   * stuck). Ends as a failure of the task (FAILURE `error` stored, chord part, errbacks,
   * task-failed), and the message is rejected: dead-lettered where its queue has a dead-letter exchange.
   */
  lapsed(job: Job, error: WorkerLostError): Promise<void> {
    return this.#finish(job, 'lapsed', error, 0);
  }

  /**
   * The after-task steps of `outcome`, then the settlement. A success with no step to take but the
   * hook (no result stored, no chord, no once-lock, no callbacks: a trivial task with ignoreResult)
   * goes straight to them, without the async frame of every step.
   */
  #finish(job: Job, outcome: Outcome, value: unknown, runtime: number): Promise<void> {
    const { request, policy, task } = job;
    if (
      outcome !== 'success' ||
      !(request.ignoreResult || policy.ignoreResult) ||
      request.embed.chord ||
      request.embed.callbacks ||
      request.embed.chain ||
      (task.options.once && !task.options.once.unlockBefore)
    )
      return this.#steps(job, outcome, value, runtime);
    this.#hooks.emit('task-succeeded', request, { result: value, runtime });
    return this.#settle(job, 'ack');
  }

  /** Done with, as far as inspect is concerned, once its outcome is out (the ack may take a while); then settled, if late-acked (or lapsed). */
  #settle(job: Job, settlement: Settlement, lapsed = false): Promise<void> {
    this.#state.held.delete(job);
    return job.policy.acksLate || lapsed ? settle(job.message, settlement, this.#report) : SETTLED;
  }

  async #steps(job: Job, outcome: Outcome, value: unknown, runtime: number): Promise<void> {
    const { request, policy, task } = job;
    const storeResults = !(request.ignoreResult || policy.ignoreResult);
    const storeErrors = storeResults || policy.storeErrorsEvenIfIgnored;
    const releaseAtEnd = task.options.once !== undefined && !task.options.once.unlockBefore;
    let settlement = settlementFor(outcome, policy);
    switch (outcome) {
      case 'success':
        if (storeResults) {
          // Celery's trace: a result the backend cannot encode fails the task with EncodeError.
          const refused = await this.#store(request, 'SUCCESS', value, null);
          if (refused) return this.#steps(job, 'failure', unencodable(refused), runtime);
        }
        if (request.embed.chord && !(await this.#chordPart(request, 'SUCCESS', value))) settlement = 'requeue';
        if (releaseAtEnd) await this.#releaseOnce(job);
        if (request.embed.callbacks || request.embed.chain) await sendCallbacks(this.#host, request, value, this.#report);
        this.#hooks.emit('task-succeeded', request, { result: value, runtime });
        break;
      case 'retry': {
        const retry = value as Retry;
        try {
          await publishRetry(this.#host, job, retry);
          if (storeErrors) await this.#storeFailure(request, 'RETRY', retry.exc ?? retry);
          this.#hooks.emit('task-retried', request, { reason: retry.exc, eta: retry.when });
        } catch (error) {
          // Celery: a retry that cannot be published is a Reject(requeue=False).
          settlement = 'reject';
          traceOutcome(job, 'FAILURE', error);
          this.#report(error as Error);
          if (storeErrors) await this.#storeFailure(request, 'FAILURE', error);
          if (request.embed.chord && !(await this.#chordPart(request, 'FAILURE', error))) settlement = 'requeue';
          if (releaseAtEnd) await this.#releaseOnce(job);
          this.#hooks.emit('task-failed', request, { error, runtime });
        }
        break;
      }
      case 'reject':
      case 'reject-requeue':
        if (releaseAtEnd) await this.#releaseOnce(job);
        this.#hooks.emit('task-rejected', request, { requeue: outcome === 'reject-requeue', reason: value as Error });
        break;
      case 'ignore':
        break;
      default: {
        // failure, time-limit, worker-lost, lapsed: a requeued task will run again, so its outcome is not final yet.
        const final = settlement !== 'requeue' || !policy.acksLate;
        if (storeErrors && final) await this.#storeFailure(request, 'FAILURE', value);
        if (final && request.embed.chord && !(await this.#chordPart(request, 'FAILURE', value))) settlement = 'requeue';
        if (releaseAtEnd) await this.#releaseOnce(job);
        if (storeErrors && final && request.embed.errbacks) await sendErrbacks(this.#host, request, this.#report);
        this.#hooks.emit('task-failed', request, { error: value, runtime });
      }
    }
    await this.#settle(job, settlement, outcome === 'lapsed');
  }

  /** Stores a state; resolves with the backend's EncodeError when it cannot encode `result`, any other failure is reported. */
  #store(request: TaskRequest, state: TaskState, result: unknown, traceback: string | null): Promise<EncodeError | undefined> {
    return storeResult(this.#host, request, state, result, traceback, this.#report);
  }

  /** Stores a failure (FAILURE, RETRY) with its traceback; one the backend cannot encode is stored as Celery's EncodeError. */
  async #storeFailure(request: TaskRequest, state: 'FAILURE' | 'RETRY', error: unknown): Promise<void> {
    const refused = await this.#store(request, state, error, tracebackOf(error));
    if (refused) await this.#store(request, state, unencodable(refused), null);
  }

  /** Counts a chord header part; false when it could not be counted (the message then goes back, so the part re-runs and counts again). */
  async #chordPart(request: TaskRequest, state: 'SUCCESS' | 'FAILURE', result: unknown): Promise<boolean> {
    if (request.group === null) return true;
    try {
      await this.#host.chordPart(request, state, result);
      return true;
    } catch (error) {
      this.#report(error as Error);
      return false;
    }
  }

  async #releaseOnce(job: Job): Promise<void> {
    await this.#host.releaseOnce(job.task, job.request).catch(this.#report);
  }
}

/** Stores a state for a request: resolves with the backend's EncodeError when it cannot encode `result`; any other failure is reported, never thrown. */
export async function storeResult(
  host: WorkerHost,
  request: TaskRequest,
  state: TaskState,
  result: unknown,
  traceback: string | null,
  report: (error: Error) => void,
): Promise<EncodeError | undefined> {
  try {
    await host.backend.storeResult(request.id, state, result, { traceback, origin: resultOrigin(request) });
  } catch (error) {
    if (error instanceof EncodeError) return error;
    report(error as Error);
  }
  return undefined;
}

/** A run's state by Celery's names (task_postrun's `state`). */
const RUN_STATES: Record<Outcome, TaskRunState> = {
  success: 'SUCCESS',
  retry: 'RETRY',
  failure: 'FAILURE',
  'time-limit': 'FAILURE',
  'worker-lost': 'FAILURE',
  lapsed: 'FAILURE',
  reject: 'REJECTED',
  'reject-requeue': 'REJECTED',
  ignore: 'IGNORED',
  revoked: 'REVOKED',
};

/** Tells the `nori:task:run` subscribers how the run ended (a no-op when nothing traces it). */
function traceOutcome(job: Job, state: TaskRunState, exception?: unknown): void {
  if (!job.traced) return;
  job.traced.state = state;
  if (exception !== undefined && (state === 'FAILURE' || state === 'RETRY')) job.traced.exception = exception;
}

/**
 * autoretryFor: a matching failure becomes a retry (or the failure itself when none are left). A hard
 * time limit only when the list names TimeLimitExceeded itself: in Celery it kills the process, so
 * no `Exception` catch-all ever retries it.
 */
function autoretry(job: Job, error: unknown): unknown {
  const { autoretryFor } = job.task.options;
  if (!autoretryFor || error instanceof Retry || error instanceof Reject || error instanceof Ignore) return error;
  if (error instanceof TimeLimitExceeded && !(Array.isArray(autoretryFor) && autoretryFor.includes(TimeLimitExceeded))) return error;
  const matches = typeof autoretryFor === 'function' ? autoretryFor(error) : autoretryFor.some((type) => error instanceof type);
  if (!matches) return error;
  const countdown = retryCountdown(job.task.options, job.request.retries);
  try {
    return retryDecision(job.request, job.policy, { exc: error as Error, ...(countdown !== undefined && { countdown }) });
  } catch (decided) {
    return decided;
  }
}

/**
 * The soft limit's SoftTimeLimitExceeded, when that is what ended the run however Node's APIs
 * wrapped it: timers/promises and fetch reject with their own AbortError (the reason as its
 * cause), and a handler may wrap that again. Else the error itself.
 */
function softLimitOf(job: Job, error: unknown): unknown {
  const reason = job.abortReason;
  if (!(reason instanceof SoftTimeLimitExceeded) || error === reason) return error;
  let e = error as { name?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++, e = e.cause as typeof e) {
    if (e === reason || e.name === 'AbortError') return reason;
  }
  return error;
}

function classify(error: unknown): Outcome {
  if (error instanceof Retry) return 'retry';
  if (error instanceof Reject) return error.requeue ? 'reject-requeue' : 'reject';
  if (error instanceof Ignore) return 'ignore';
  if (error instanceof TimeLimitExceeded) return 'time-limit';
  if (error instanceof WorkerLostError) return 'worker-lost';
  return 'failure';
}
