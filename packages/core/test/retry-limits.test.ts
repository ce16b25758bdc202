/** retry(): the abort signal and the time budget, edges the mutation run found unasserted (docs/mutants.md). */
import { expect, it } from 'vitest';
import { retry, TimeoutError } from '@nori/core';

const failing = (): Promise<never> => Promise.reject(new Error('down'));

it('an already aborted signal stops before the first wait, with its reason', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop now'));
  let attempts = 0;
  const started = Date.now();
  await expect(retry(() => (attempts++, failing()), { intervalStart: 5_000 }, { signal: controller.signal })).rejects.toThrow('stop now');
  expect(attempts).toBe(1);
  expect(Date.now() - started).toBeLessThan(2_000);
});

it('aborting during a wait rejects at once with the reason, and no further attempt runs', async () => {
  const controller = new AbortController();
  let attempts = 0;
  const started = Date.now();
  const p = retry(() => (attempts++, failing()), { intervalStart: 10_000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('shutting down')), 50);
  await expect(p).rejects.toThrow('shutting down');
  expect(attempts).toBe(1);
  expect(Date.now() - started).toBeLessThan(5_000);
});

it('the time budget: a wait that would pass it ends in TimeoutError naming the attempts, with the last error as cause', async () => {
  let attempts = 0;
  const error = await retry(() => (attempts++, failing()), { intervalStart: 100, intervalStep: 0, timeout: 250, jitter: false }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TimeoutError);
  // Attempts at about 0, 100 and 200 ms; a busy machine may fit one fewer.
  expect((error as TimeoutError).message).toBe(`gave up after ${attempts} attempt(s) within 250 ms: down`);
  expect(((error as TimeoutError).cause as Error).message).toBe('down');
  expect(attempts).toBeGreaterThanOrEqual(2);
  expect(attempts).toBeLessThanOrEqual(3);
});

it('maxRetries counts retries after the first attempt', async () => {
  let attempts = 0;
  await expect(retry(() => (attempts++, failing()), { maxRetries: 2, intervalStart: 1, intervalStep: 0, jitter: false })).rejects.toThrow('down');
  expect(attempts).toBe(3);
});
