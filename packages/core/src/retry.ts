/**
 * One backoff for `ensureConnection`, publish retries and reconnect loops. Defaults are kombu's
 * `ensure_connection` (2 s, +2 s per retry, at most 30 s), in milliseconds, with jitter so a
 * fleet of clients does not reconnect in lockstep.
 */
import { TimeoutError } from './errors.js';
import { sleep as wait } from './long-timer.js';

export interface RetryPolicy {
  /** Retries after the first attempt; undefined = no limit. */
  maxRetries?: number;
  /** Delay before the first retry, ms. Default 2000. */
  intervalStart?: number;
  /** Added per further retry, ms. Default 2000. */
  intervalStep?: number;
  /** Cap on one delay, ms. Default 30000. */
  intervalMax?: number;
  /** Total time budget, ms; undefined = no limit. */
  timeout?: number;
  /** Spread each delay over [delay/2, delay]. Default true. */
  jitter?: boolean;
}

/** Delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min((policy.intervalStart ?? 2000) + Math.max(0, attempt - 1) * (policy.intervalStep ?? 2000), policy.intervalMax ?? 30_000);
  return policy.jitter === false ? base : base / 2 + (random() * base) / 2;
}

export interface RetryOptions {
  /** Errors that are not retryable are thrown at once. Default: all are retryable. */
  isRetryable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/** Run `fn` until it succeeds, the retries or the time budget run out (last error thrown), or `signal` aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const deadline = policy.timeout === undefined ? Infinity : Date.now() + policy.timeout;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.isRetryable && !options.isRetryable(error)) throw error;
      const retryNumber = attempt + 1;
      if (policy.maxRetries !== undefined && retryNumber > policy.maxRetries) throw error;
      const delay = backoffDelay(retryNumber, policy);
      if (Date.now() + delay > deadline) {
        throw new TimeoutError(`gave up after ${retryNumber} attempt(s) within ${policy.timeout} ms: ${(error as Error).message}`, { cause: error });
      }
      options.onRetry?.(error, retryNumber, delay);
      await wait(delay, options.signal);
    }
  }
}
