/**
 * Celery's autoretry countdown (celery/utils/time.py `get_exponential_backoff_interval`):
 * factor × 2^retries capped at retryBackoffMax, then with full jitter a random whole second in
 * [0, countdown]. Celery works in whole seconds; so does this, in ms.
 */
import type { TaskOptions } from '../task.js';

/** The countdown (ms) of autoretry number `retries + 1`; undefined without retryBackoff (the task's defaultRetryDelay applies). */
export function retryCountdown(
  options: Pick<TaskOptions, 'retryBackoff' | 'retryBackoffMax' | 'retryJitter'>,
  retries: number,
  random: () => number = Math.random,
): number | undefined {
  const backoff = options.retryBackoff;
  if (backoff === undefined || backoff === false) return undefined;
  const factorSeconds = Math.max(1, Math.trunc((backoff === true ? 1000 : backoff) / 1000));
  const maxSeconds = (options.retryBackoffMax ?? 600_000) / 1000;
  let seconds = Math.min(maxSeconds, factorSeconds * 2 ** retries);
  if (options.retryJitter ?? true) seconds = Math.floor(random() * (Math.floor(seconds) + 1));
  return Math.max(0, seconds) * 1000;
}
