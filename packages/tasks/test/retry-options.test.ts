/**
 * Retry options on memory:// (process-local, fast): retryBackoffMax caps autoretry's exponential
 * countdown; autoretryFor turns a hard time limit into a retry only when it names TimeLimitExceeded; a retry keeps the call's
 * expires; per-call timeLimit / softTimeLimit win over the task's own, longer or shorter.
 */
import { afterEach, expect, it } from 'vitest';
import { currentTask, SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded, type AppOptions, type Worker } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const setup = (options: AppOptions = {}) => testbed('memory://', { backend: 'memory://', ...options });

class Flaky extends Error {}
const flaky = (): never => {
  throw new Flaky('flaky');
};

/** The countdown of each task's first retry (its ETA less the time the hook saw it), by task id. */
function firstCountdowns(w: Worker): Map<string, number> {
  const countdowns = new Map<string, number>();
  w.on('task-retried', (r, { eta }) => {
    if (!countdowns.has(r.id) && eta) countdowns.set(r.id, eta.getTime() - Date.now());
  });
  return countdowns;
}

it('retryBackoffMax caps the backoff: exactly the cap without jitter, never over it with jitter; 10 minutes by default', async () => {
  const { app, worker } = setup();
  const backoff = { autoretryFor: [Flaky], retryBackoff: 1000, maxRetries: null };
  const capped = app.task('ro.capped', flaky, { ...backoff, retryBackoffMax: 3000, retryJitter: false });
  const jittered = app.task('ro.jittered', flaky, { ...backoff, retryBackoffMax: 3000 });
  const byDefault = app.task('ro.default', flaky, { ...backoff, retryJitter: false });
  const w = await worker({ concurrency: 4 });
  const countdowns = firstCountdowns(w);
  // At retries 6 the uncapped countdown is 64 s (jittered: a whole second in 0..64); at 12, 4096 s.
  const cappedId = (await capped.applyAsync([], {}, { retries: 6 })).id;
  const jitteredIds = await Promise.all(Array.from({ length: 5 }, async () => (await jittered.applyAsync([], {}, { retries: 6 })).id));
  const defaultId = (await byDefault.applyAsync([], {}, { retries: 12 })).id;
  await expect.poll(() => countdowns.size, { timeout: 10_000 }).toBe(7);
  expect(countdowns.get(cappedId)).toBeGreaterThan(2000);
  expect(countdowns.get(cappedId)).toBeLessThanOrEqual(3000);
  for (const id of jitteredIds) expect(countdowns.get(id)).toBeLessThanOrEqual(3000);
  expect(countdowns.get(defaultId)).toBeGreaterThan(599_000);
  expect(countdowns.get(defaultId)).toBeLessThanOrEqual(600_000);
});

it('autoretryFor never retries a hard time limit, even when it matches every error', async () => {
  const { app, worker } = setup();
  const runs = new Map<string, number>();
  const options = { timeLimit: 100, maxRetries: 3, defaultRetryDelay: 10 };
  const hang = (): Promise<never> => {
    runs.set(currentTask().name, (runs.get(currentTask().name) ?? 0) + 1);
    return new Promise<never>(() => undefined);
  };
  const byClass = app.task('ro.byClass', hang, { ...options, autoretryFor: [Error] });
  const byPredicate = app.task('ro.byPredicate', hang, { ...options, autoretryFor: () => true });
  // The same options do retry an ordinary failure: the setup would retry if the limit were retried.
  const ordinary = app.task(
    'ro.ordinary',
    () => {
      runs.set('ro.ordinary', (runs.get('ro.ordinary') ?? 0) + 1);
      throw new Error('ordinary');
    },
    { ...options, autoretryFor: [Error] },
  );
  await worker({ concurrency: 3 });
  const limited = { excType: 'TimeLimitExceeded', excModule: 'billiard.exceptions' };
  await expect((await byClass.delay()).get({ timeout: 5000 })).rejects.toMatchObject(limited);
  await expect((await byPredicate.delay()).get({ timeout: 5000 })).rejects.toMatchObject(limited);
  await expect((await ordinary.delay()).get({ timeout: 5000 })).rejects.toMatchObject({ message: expect.stringContaining('ordinary') });
  // A retry would have run 10 ms later.
  await new Promise((r) => setTimeout(r, 300));
  expect(Object.fromEntries(runs)).toEqual({ 'ro.byClass': 1, 'ro.byPredicate': 1, 'ro.ordinary': 4 });
});

it('autoretryFor retries a hard time limit when it names TimeLimitExceeded itself', async () => {
  const { app, worker } = setup();
  let runs = 0;
  const named = app.task(
    'ro.named',
    () => {
      runs++;
      return new Promise<never>(() => undefined);
    },
    { timeLimit: 100, maxRetries: 2, defaultRetryDelay: 10, autoretryFor: [TimeLimitExceeded] },
  );
  await worker({ concurrency: 3 });
  await expect((await named.delay()).get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded' });
  expect(runs).toBe(3);
});

it('a retried task keeps its expires: each run sees it, and a retry due after it is revoked without running', async () => {
  const { app, worker } = setup();
  const seen: Array<string | undefined> = [];
  const twice = app.task('ro.twice', () => {
    const ctx = currentTask();
    seen.push(ctx.expires?.toISOString());
    if (ctx.retries === 0) ctx.retry({ countdown: 10 });
    return ctx.retries;
  });
  let lateRuns = 0;
  const late = app.task('ro.late', () => {
    lateRuns++;
    currentTask().retry({ countdown: 800 });
  });
  await worker();
  const expires = new Date(Date.now() + 60_000);
  expect(await (await twice.applyAsync([], {}, { expires })).get({ timeout: 5000 })).toBe(1);
  expect(seen).toEqual([expires.toISOString(), expires.toISOString()]);
  await expect((await late.applyAsync([], {}, { expires: 300 })).get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskRevokedError);
  expect(lateRuns).toBe(1);
});

/** Runs `ms`, or until its signal aborts: 'done', or why it stopped. */
async function waits(ms: number): Promise<string> {
  const { signal } = currentTask();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('done'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason instanceof SoftTimeLimitExceeded ? 'soft limit' : 'aborted');
    });
  });
}

it("per-call timeLimit and softTimeLimit win over the task's own, longer or shorter", async () => {
  const { app, worker } = setup();
  const strict = app.task('ro.strict', waits, { timeLimit: 300, softTimeLimit: 200 });
  const lenient = app.task('ro.lenient', waits, { timeLimit: 5000, softTimeLimit: 4000 });
  await worker({ concurrency: 4 });
  const longer = strict.applyAsync([600], {}, { timeLimit: 3000, softTimeLimit: 2000 });
  const shorterSoft = lenient.applyAsync([3000], {}, { softTimeLimit: 100 });
  const shorterHard = lenient.applyAsync([3000], {}, { timeLimit: 100 });
  expect(await (await longer).get({ timeout: 5000 })).toBe('done');
  const started = Date.now();
  expect(await (await shorterSoft).get({ timeout: 5000 })).toBe('soft limit');
  await expect((await shorterHard).get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded' });
  expect(Date.now() - started).toBeLessThan(2000);
});
