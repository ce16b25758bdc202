/**
 * The worker's admission parts on their own: Celery's rate strings, the token bucket's spacing,
 * and the semaphore's permits (order, a request that goes first, resizing, abort).
 * admission.test.ts drives them through a worker.
 */
import { describe, expect, it } from 'vitest';
import { TaskConfigError } from '@nori/tasks';
import { parseRate, RateLimiter } from '../src/worker/admission/rate-limit.js';
import { Semaphore } from '../src/worker/admission/semaphore.js';

describe('parseRate', () => {
  it('reads N/s, N/m, N/h and a bare N (per second), spaces allowed; zero and blank are no limit', () => {
    expect(parseRate('10/s')).toBe(10);
    expect(parseRate('90/m')).toBe(1.5);
    expect(parseRate('7200/h')).toBe(2);
    expect(parseRate('5')).toBe(5);
    expect(parseRate(' 1.5 / s ')).toBe(1.5);
    expect(parseRate('1.25/s')).toBe(1.25);
    expect(parseRate('0/m')).toBeUndefined();
    expect(parseRate('0')).toBeUndefined();
    expect(parseRate(2.5)).toBe(2.5);
    expect(parseRate(0)).toBeUndefined();
    // Blank is no limit, as Celery's rate('') is 0 (`celery control rate_limit add ''` disables it).
    expect(parseRate('')).toBeUndefined();
    expect(parseRate('  ')).toBeUndefined();
  });

  it('refuses anything else, naming it', () => {
    for (const bad of ['x', '10/d', '10/ss', '/s', '1/s/s', 'a10/s', '10/sx', '-1/s', '1.5.2/s'])
      expect(() => parseRate(bad), bad).toThrow(new TaskConfigError(`rateLimit "${bad}" is not N/s, N/m or N/h`));
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => parseRate(bad), String(bad)).toThrow(new TaskConfigError(`rateLimit must be >= 0 per second, got ${bad}`));
  });
});

describe('RateLimiter', () => {
  it('spaces starts 1/rate apart from the last one reserved, never making a task wait after an idle spell', () => {
    const limiter = new RateLimiter(4);
    expect([limiter.reserve(1000), limiter.reserve(1000), limiter.reserve(1100)]).toEqual([0, 250, 400]);
    // The next slot is 1750: a request at 2000 starts at once, the one after it 250 ms later.
    expect([limiter.reserve(2000), limiter.reserve(2100)]).toEqual([0, 150]);
  });
});

describe('Semaphore', () => {
  const order = async (s: Semaphore, firsts: boolean[]): Promise<{ got: number[]; waits: Array<Promise<void>> }> => {
    const got: number[] = [];
    const waits = firsts.map((first, i) => (first ? s.acquire(true) : s.acquire()).then(() => void got.push(i)));
    await Promise.resolve();
    return { got, waits };
  };

  it('hands permits out in request order, a `first` request ahead of the rest; release passes a permit on', async () => {
    const s = new Semaphore(2, new AbortController().signal);
    expect(s.tryAcquire()).toBe(true);
    await s.acquire();
    expect(s.tryAcquire()).toBe(false);
    const { got } = await order(s, [false, false, true]);
    expect(got).toEqual([]);
    s.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([2]);
    s.release();
    s.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([2, 0, 1]);
    // Everyone served: a release frees a permit.
    s.release();
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(false);
  });

  it('resizes: more permits serve waiters at once, fewer take effect as holders release', async () => {
    const s = new Semaphore(1, new AbortController().signal);
    await s.acquire();
    const { got } = await order(s, [false, false]);
    s.resize(2);
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([0, 1]);
    s.resize(-2);
    s.release();
    s.release();
    expect(s.tryAcquire()).toBe(false);
    s.release();
    expect(s.tryAcquire()).toBe(true);
  });

  it('an abort rejects every waiter and every later request with its reason', async () => {
    const abort = new AbortController();
    const s = new Semaphore(1, abort.signal);
    expect(s.tryAcquire()).toBe(true);
    const waits = [s.acquire(), s.acquire(true)];
    const reason = new Error('stopping');
    abort.abort(reason);
    for (const w of waits) await expect(w).rejects.toBe(reason);
    await expect(s.acquire()).rejects.toBe(reason);
    s.release();
    expect(s.tryAcquire()).toBe(false);
  });
});
