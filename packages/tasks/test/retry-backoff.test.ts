/**
 * Autoretry's countdown on its own (Celery's get_exponential_backoff_interval): whole seconds,
 * factor × 2^retries, capped by retryBackoffMax, full jitter over [0, countdown] unless turned off.
 * retry-options.test.ts and worker-behaviour.test.ts drive it through a worker.
 */
import { expect, it } from 'vitest';
import { retryCountdown } from '../src/worker/retry-backoff.js';

const noJitter = { retryJitter: false } as const;

it('no retryBackoff (or false): no countdown of its own, the task’s defaultRetryDelay applies', () => {
  expect(retryCountdown({}, 3)).toBeUndefined();
  expect(retryCountdown({ retryBackoff: false }, 3)).toBeUndefined();
});

it('doubles from the factor in whole seconds: true is 1 s, a factor under 1 s is 1 s, 2.5 s is 2 s', () => {
  expect([0, 1, 2, 3].map((n) => retryCountdown({ retryBackoff: true, ...noJitter }, n))).toEqual([1000, 2000, 4000, 8000]);
  expect([0, 1, 2].map((n) => retryCountdown({ retryBackoff: 3000, ...noJitter }, n))).toEqual([3000, 6000, 12_000]);
  expect(retryCountdown({ retryBackoff: 500, ...noJitter }, 1)).toBe(2000);
  expect(retryCountdown({ retryBackoff: 2500, ...noJitter }, 1)).toBe(4000);
});

it('retryBackoffMax caps it (600 s by default); a cap at or under zero gives no wait', () => {
  expect(retryCountdown({ retryBackoff: true, retryBackoffMax: 5000, ...noJitter }, 2)).toBe(4000);
  expect(retryCountdown({ retryBackoff: true, retryBackoffMax: 5000, ...noJitter }, 3)).toBe(5000);
  expect(retryCountdown({ retryBackoff: true, retryBackoffMax: 2500, ...noJitter }, 4)).toBe(2500);
  expect(retryCountdown({ retryBackoff: true, ...noJitter }, 9)).toBe(512_000);
  expect(retryCountdown({ retryBackoff: true, ...noJitter }, 10)).toBe(600_000);
  expect(retryCountdown({ retryBackoff: true, retryBackoffMax: -1000, ...noJitter }, 0)).toBe(0);
});

it('full jitter by default: a whole second drawn from [0, countdown], the cap’s fraction cut', () => {
  const at = (r: number) => () => r;
  // 8 s: random() × 9 whole seconds.
  expect(retryCountdown({ retryBackoff: true }, 3, at(0))).toBe(0);
  expect(retryCountdown({ retryBackoff: true }, 3, at(0.5))).toBe(4000);
  expect(retryCountdown({ retryBackoff: true, retryJitter: true }, 3, at(0.999))).toBe(8000);
  // Capped at 2.5 s: drawn from 0, 1, 2.
  expect(retryCountdown({ retryBackoff: true, retryBackoffMax: 2500 }, 4, at(0.999))).toBe(2000);
  const draws: number[] = [];
  retryCountdown({ retryBackoff: true, retryJitter: false }, 3, () => (draws.push(1), 0));
  expect(draws).toEqual([]);
});
