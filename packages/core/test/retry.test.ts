import { describe, expect, it } from 'vitest';
import { backoffDelay, retry, TimeoutError } from '@nori/core';

describe('backoff', () => {
  it('grows by the step up to the cap, kombu defaults in ms', () => {
    const p = { jitter: false };
    expect([1, 2, 3, 15, 16].map((a) => backoffDelay(a, p))).toEqual([2000, 4000, 6000, 30000, 30000]);
    expect(backoffDelay(3, { intervalStart: 100, intervalStep: 50, intervalMax: 180, jitter: false })).toBe(180);
  });
  it('jitter stays within [delay/2, delay]', () => {
    expect(backoffDelay(1, { intervalStart: 1000 }, () => 0)).toBe(500);
    expect(backoffDelay(1, { intervalStart: 1000 }, () => 0.999999)).toBeCloseTo(1000, 0);
  });
});

describe('retry', () => {
  const fast = { intervalStart: 1, intervalStep: 1, intervalMax: 2 };
  it('returns the first success and reports each retry', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 2) throw new Error(`fail ${attempt}`);
        return attempt;
      },
      fast,
      { onRetry: (_e, n) => seen.push(n) },
    );
    expect(result).toBe(2);
    expect(seen).toEqual([1, 2]);
  });
  it('stops after maxRetries with the last error', async () => {
    let calls = 0;
    await expect(retry(async () => Promise.reject(new Error(`nope ${++calls}`)), { ...fast, maxRetries: 2 })).rejects.toThrow('nope 3');
    expect(calls).toBe(3);
  });
  it('does not retry what is not retryable', async () => {
    let calls = 0;
    await expect(retry(async () => Promise.reject(new Error(`bad ${++calls}`)), fast, { isRetryable: () => false })).rejects.toThrow('bad 1');
  });
  it('gives up with TimeoutError when the budget is spent', async () => {
    await expect(retry(async () => Promise.reject(new Error('down')), { intervalStart: 50, intervalStep: 0, timeout: 120, jitter: false })).rejects.toThrow(
      TimeoutError,
    );
  });
  it('aborts while waiting', async () => {
    const controller = new AbortController();
    const p = retry(async () => Promise.reject(new Error('down')), { intervalStart: 10_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped')), 10);
    await expect(p).rejects.toThrow('stopped');
  });
});
