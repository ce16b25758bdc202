/**
 * Celery's rate limits: '10/s', '100/m', '1000/h' (or a number per second), one token bucket of
 * capacity 1 per task type per worker. Tasks over the limit wait in the worker, still reserved.
 */
import { TaskConfigError } from '../../errors.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** Tasks per second; undefined for no limit ('0', 0, '' as Celery's `rate('')`). */
export function parseRate(rate: string | number): number | undefined {
  if (typeof rate === 'number') {
    if (!Number.isFinite(rate) || rate < 0) throw new TaskConfigError(`rateLimit must be >= 0 per second, got ${rate}`);
    return rate === 0 ? undefined : rate;
  }
  if (rate.trim() === '') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(rate);
  if (!match) throw new TaskConfigError(`rateLimit "${rate}" is not N/s, N/m or N/h`);
  const perSecond = Number(match[1]) / (UNITS[match[2] ?? 's'] as number);
  return perSecond === 0 ? undefined : perSecond;
}

/** One bucket: hands out start times spaced 1/rate apart. */
export class RateLimiter {
  #next = 0;
  constructor(readonly perSecond: number) {}

  /** Ms to wait before the next task may start; reserves that slot. */
  reserve(now = Date.now()): number {
    const at = Math.max(now, this.#next);
    this.#next = at + 1000 / this.perSecond;
    return at - now;
  }
}
