/**
 * The running task's context, reached with `currentTask()` instead of Celery's bound `self`.
 *
 * AsyncLocalStorage rather than an extra trailing argument: a handler keeps exactly the signature
 * it is typed with, so `app.task('add', (x: number, y: number) => x + y)` types `delay(2, 3)`
 * and a Python caller's positional args map 1:1 onto parameters (a trailing context argument would
 * collide with optional parameters and with callers that pass one argument more). The context
 * follows the handler through every await, and helpers deep in the call stack can read it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@nori/core';
import { OutsideTaskError, Retry, MaxRetriesExceededError } from './errors.js';
import type { TaskRequest } from './protocol/message.js';

export interface DeliveryDetails {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly priority: number | undefined;
  readonly redelivered: boolean;
}

export interface RetryOptions {
  /** Delay before the retry runs, ms; default the task's defaultRetryDelay (unless `eta`). */
  countdown?: number;
  eta?: Date;
  /** Why: stored as the RETRY state's result, and thrown instead of MaxRetriesExceededError when no retries are left. */
  exc?: Error;
  /** Overrides the task's maxRetries for this call; null = no limit. */
  maxRetries?: number | null;
  queue?: string;
  priority?: number;
}

/** The request's fields (see TaskRequest), plus what the worker adds. */
export interface TaskContext extends Pick<
  TaskRequest,
  'id' | 'name' | 'args' | 'kwargs' | 'retries' | 'eta' | 'expires' | 'rootId' | 'parentId' | 'group' | 'origin' | 'replyTo' | 'embed'
> {
  /** The worker's node name. */
  readonly hostname: string;
  readonly deliveryInfo: DeliveryDetails;
  /** Aborts with SoftTimeLimitExceeded at the soft limit, TimeLimitExceeded at the hard one, or on cold shutdown. */
  readonly signal: AbortSignal;
  /**
   * Retry the task: throws `Retry` (let it propagate) after which the worker publishes the same id
   * with retries + 1 at the countdown. With no retries left it throws `exc` or MaxRetriesExceededError.
   */
  retry(options?: RetryOptions): never;
  /**
   * Report a state while running (Celery's `update_state`): stored as the task's state with `meta`
   * as its result, in Celery's layout (so `AsyncResult.info` reads it, in Python too), and sent as
   * a `task-progress` event. Any name; 'PROGRESS' is the usual one. Resolves once stored.
   */
  updateState(state: string, meta?: unknown): Promise<void>;
  /** The App's `logger` with this task's `task_id` and `task_name` on every line (silent when the App has none). */
  readonly logger: Logger;
}

/** Where a running task's context comes from: built when first asked for (most handlers never do), then the same object. */
export interface ContextSource {
  context(): TaskContext;
}

const storage = new AsyncLocalStorage<ContextSource>();
/** The context of the plain (not `async`) handler being called right now, synchronously. */
let calling: ContextSource | undefined;

/** The context of the task running in this async call chain; throws OutsideTaskError outside one. */
export function currentTask(): TaskContext {
  const source = calling ?? storage.getStore();
  if (!source) throw new OutsideTaskError('currentTask() called outside a running task');
  return source.context();
}

const AsyncFunction = (async () => undefined).constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;

/**
 * Calls a handler in its context. An `async` function runs under AsyncLocalStorage, so the context
 * follows its awaits. Any other function has no await of its own to follow: it gets the context
 * for the length of its synchronous call only, without AsyncLocalStorage, because on Node 20 the
 * first `run` turns on promise hooks for every promise of the process for good, a third of the
 * cost of a trivial task (measured with benchmarks/tasks). A plain function that returns a promise
 * reads `currentTask()` before it returns; callbacks it chains run outside the context.
 */
export function runInContext(source: ContextSource, handler: (...args: never[]) => unknown, args: readonly unknown[]): unknown {
  const fn = handler as (...a: readonly unknown[]) => unknown;
  if (handler instanceof AsyncFunction || handler instanceof AsyncGeneratorFunction) return storage.run(source, fn, ...args);
  const outer = calling;
  calling = source;
  try {
    return fn(...args);
  } finally {
    calling = outer;
  }
}

/** Celery's Task.retry decision: throws Retry, or the failure when no retries are left. */
export function retryDecision(
  request: { id: string; name: string; retries: number },
  policy: { maxRetries: number | null; defaultRetryDelay: number },
  options: RetryOptions,
  now = Date.now(),
): never {
  const maxRetries = options.maxRetries === undefined ? policy.maxRetries : options.maxRetries;
  if (maxRetries !== null && request.retries + 1 > maxRetries) {
    throw options.exc ?? new MaxRetriesExceededError(request.name, request.id, maxRetries);
  }
  const when = options.eta ?? new Date(now + (options.countdown ?? policy.defaultRetryDelay));
  throw new Retry(when, options.exc, {
    ...(options.queue !== undefined && { queue: options.queue }),
    ...(options.priority !== undefined && { priority: options.priority }),
  });
}
