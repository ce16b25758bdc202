/**
 * Worker behaviour on memory:// (process-local, fast): hooks, acks early/late, time limits, rate
 * limits, autoretry with backoff, routes, warm and cold shutdown.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as timersSetTimeout } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { currentTask, Reject, SoftTimeLimitExceeded, TaskConfigError, type AppOptions } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const setup = (options: AppOptions = {}) => testbed('memory://', { backend: 'memory://', ...options });

it('emits typed hooks in order: received, started, succeeded / failed / retried / revoked', async () => {
  const { app, worker } = setup();
  const ok = app.task('h.ok', (x: number) => x * 2);
  const bad = app.task('h.bad', () => {
    throw new Error('boom');
  });
  const again = app.task('h.again', () => (currentTask().retries === 0 ? currentTask().retry({ countdown: 1 }) : 'done'));
  const sent: string[] = [];
  app.on('task-sent', (info) => sent.push(info.name));
  const w = await worker();
  const events: string[] = [];
  w.on('task-received', (r) => events.push(`received ${r.name}`));
  w.on('task-started', (r) => events.push(`started ${r.name}`));
  w.on('task-succeeded', (r, info) => events.push(`succeeded ${r.name} ${String(info.result)}`));
  w.on('task-failed', (r, info) => events.push(`failed ${r.name} ${(info.error as Error).message}`));
  w.on('task-retried', (r) => events.push(`retried ${r.name} ${r.retries}`));
  w.on('task-revoked', (r, info) => events.push(`revoked ${r.name} expired=${info.expired}`));
  await (await ok.delay(21)).get({ timeout: 5000 });
  await (await bad.delay()).get({ timeout: 5000, propagate: false });
  await (await again.delay()).get({ timeout: 5000 });
  await (await ok.applyAsync([1], {}, { expires: new Date(0) })).get({ timeout: 5000, propagate: false });
  // Hooks fire after the result is stored: wait for the last one.
  await expect.poll(() => events.length).toBe(14);
  // The retry message may be received before the 'retried' hook of the run that sent it.
  const retried = events.splice(events.indexOf('retried h.again 0'), 1);
  expect(retried).toEqual(['retried h.again 0']);
  expect(events).toEqual([
    'received h.ok',
    'started h.ok',
    'succeeded h.ok 42',
    'received h.bad',
    'started h.bad',
    'failed h.bad boom',
    'received h.again',
    'started h.again',
    'received h.again',
    'started h.again',
    'succeeded h.again done',
    'received h.ok',
    'revoked h.ok expired=true',
  ]);
  expect(sent).toEqual(['h.ok', 'h.bad', 'h.again', 'h.again', 'h.ok']);
});

it('late acks (default) requeue on Reject(requeue); early acks (acksLate: false) already acked, so it runs once', async () => {
  for (const acksLate of [true, false]) {
    const { app, conn, queue, worker } = setup();
    let runs = 0;
    const t = app.task(
      't.reject',
      () => {
        runs++;
        if (runs === 1) throw new Reject('not now', true);
        return runs;
      },
      { acksLate },
    );
    await worker();
    await t.delay();
    await new Promise((r) => setTimeout(r, 400));
    expect(runs).toBe(acksLate ? 2 : 1);
    expect(await conn.queueSize(queue)).toBe(0);
  }
});

it('soft time limit aborts the signal; hard time limit fails with TimeLimitExceeded', async () => {
  const { app, worker } = setup();
  const soft = app.task(
    't.soft',
    () =>
      new Promise((resolve) => {
        const { signal } = currentTask();
        signal.addEventListener('abort', () => resolve(signal.reason instanceof SoftTimeLimitExceeded ? 'cleaned up' : 'other'));
      }),
    { softTimeLimit: 100 },
  );
  const hard = app.task('t.hard', () => new Promise(() => undefined), { timeLimit: 150 });
  await worker();
  expect(await (await soft.delay()).get({ timeout: 5000 })).toBe('cleaned up');
  const started = Date.now();
  await expect((await hard.delay()).get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded', excModule: 'billiard.exceptions' });
  expect(Date.now() - started).toBeLessThan(3000);
  // Per-call limits (the timelimit header) override the task's.
  const perCall = await hard.applyAsync([], {}, { timeLimit: 50 });
  await expect(perCall.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded' });
});

it('a soft limit reached through Node APIs (timers/promises, fetch) is stored as SoftTimeLimitExceeded, not their AbortError', async () => {
  const { app, worker } = setup();
  // A server that never answers: fetch waits until its signal aborts.
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const sleeping = app.task('t.sleepy', async () => timersSetTimeout(10_000, 'late', { signal: currentTask().signal }), { softTimeLimit: 100 });
    const fetching = app.task('t.fetchy', async () => (await fetch(url, { signal: currentTask().signal })).status, { softTimeLimit: 100 });
    const wrapped = app.task(
      't.wrapped',
      async () => {
        await timersSetTimeout(10_000, undefined, { signal: currentTask().signal }).catch((error: unknown) => {
          throw new Error('the download was cut', { cause: error });
        });
      },
      { softTimeLimit: 100 },
    );
    await worker({ concurrency: 3 });
    const results = await Promise.all([sleeping.delay(), fetching.delay(), wrapped.delay()]);
    for (const r of results) {
      await expect(r.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'SoftTimeLimitExceeded', excModule: 'billiard.exceptions' });
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

it('an unknown pool is a TaskConfigError, not tasks run in-process', () => {
  const { app } = setup();
  for (const pool of ['prefork', 'gevent', 'thread', '']) expect(() => app.worker({ pool: pool as 'async' }), pool).toThrow(TaskConfigError);
  for (const pool of ['async', 'threads', 'process'] as const) expect(() => app.worker({ pool })).not.toThrow();
});

it("rate limits a task per worker ('10/s' spaces starts 100 ms apart) and leaves other tasks alone", async () => {
  const { app, worker } = setup();
  const starts: number[] = [];
  const limited = app.task('t.limited', () => starts.push(Date.now()), { rateLimit: '10/s' });
  const free = app.task('t.free', () => Date.now());
  await worker({ concurrency: 4 });
  const results = await Promise.all(Array.from({ length: 5 }, () => limited.delay()));
  const t0 = Date.now();
  await (await free.delay()).get({ timeout: 5000 });
  expect(Date.now() - t0).toBeLessThan(350);
  await Promise.all(results.map((r) => r.get({ timeout: 5000 })));
  starts.sort((a, b) => a - b);
  expect((starts[4] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(380);
});

it('autoretryFor retries matching errors with exponential backoff, then fails with the error', async () => {
  const { app, worker } = setup();
  class Flaky extends Error {}
  const retries: number[] = [];
  const t = app.task(
    't.flaky',
    () => {
      retries.push(currentTask().retries);
      throw new Flaky('still flaky');
    },
    { autoretryFor: [Flaky], retryBackoff: 1000, retryJitter: false, retryBackoffMax: 1000, maxRetries: 2 },
  );
  const other = app.task(
    't.other',
    () => {
      throw new TypeError('not retried');
    },
    { autoretryFor: [Flaky] },
  );
  await worker();
  const started = Date.now();
  await expect((await t.delay()).get({ timeout: 10_000 })).rejects.toMatchObject({ message: expect.stringContaining('still flaky') });
  expect(retries).toEqual([0, 1, 2]);
  // 1 s then 1 s (2 s capped at retryBackoffMax).
  expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  await expect((await other.delay()).get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TypeError' });
});

it('routes by taskRoutes glob, task option and call option, in that order of precedence (call first)', async () => {
  const base = `routes-${randomUUID().slice(0, 8)}`;
  const { app, conn } = setup({ queueMaxPriority: 10, taskRoutes: { 'math.*': `${base}-math`, 'io.read': { queue: `${base}-io`, priority: 3 } } });
  const own = app.task('misc.x', () => 1, { queue: `${base}-own` });
  await app.sendTask('math.add', [1, 2]);
  await app.sendTask('io.read', []);
  await own.delay();
  await own.applyAsync([], {}, { queue: `${base}-call` });
  for (const q of ['math', 'io', 'own', 'call']) {
    const m = await conn.simpleQueue(`${base}-${q}`).get({ timeout: 2000 });
    expect(m.deliveryInfo.routingKey).toBe(`${base}-${q}`);
    if (q === 'io') expect(m.properties.priority).toBe(3);
    await m.ack();
    await conn.deleteQueue(`${base}-${q}`);
  }
});

it('warm stop finishes running tasks and gives reserved ones back; a second stop is cold', async () => {
  const { app, conn, queue, worker } = setup();
  let finished = 0;
  const slow = app.task('t.slow', async (ms: number) => {
    const { signal } = currentTask();
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => clearTimeout(timer));
    });
    if (!signal.aborted) finished++;
  });
  const w = await worker({ concurrency: 1, prefetchMultiplier: 4 });
  for (let i = 0; i < 4; i++) await slow.delay(300);
  await new Promise((r) => setTimeout(r, 100));
  expect(w.active).toBe(1);
  await w.stop();
  expect(finished).toBe(1);
  expect(await conn.queueSize(queue)).toBe(3);

  await conn.purge(queue);
  const w2 = await worker({ concurrency: 1 });
  await slow.delay(60_000);
  await new Promise((r) => setTimeout(r, 100));
  expect(w2.active).toBe(1);
  const warm = w2.stop();
  await new Promise((r) => setTimeout(r, 50));
  await w2.stop();
  await warm;
  // The late-acked message of the aborted task is back in the queue.
  expect(await conn.queueSize(queue)).toBe(1);
  expect(finished).toBe(1);
});

it('a cold stop right after a warm one gives back the running task and every task waiting for a slot', async () => {
  const { app, conn, queue, worker } = setup();
  const slow = app.task('t.slow-cold', async (ms: number) => {
    const { signal } = currentTask();
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)));
    });
  });
  const w = await worker({ concurrency: 1, prefetchMultiplier: 4 });
  for (let i = 0; i < 4; i++) await slow.delay(60_000);
  await new Promise((r) => setTimeout(r, 100));
  expect(w.active).toBe(1);
  // Settle-by-return acks what a handler leaves unsettled: the three waiting for the slot must be
  // given back, not acked, when the cold stop ends their handlers.
  const warm = w.stop();
  await w.stop();
  await warm;
  expect(await conn.queueSize(queue)).toBe(4);
});

it('stores STARTED with trackStarted, and RETRY (with the reason) between a retry and its next run', async () => {
  const { app, worker } = setup({ trackStarted: true });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const gated = app.task('t.gated', async () => {
    await gate;
    return 'done';
  });
  const retrying = app.task('t.retrying', () => {
    const ctx = currentTask();
    if (ctx.retries === 0) ctx.retry({ countdown: 60_000, exc: new TypeError('try later') });
    return 'never';
  });
  await worker();
  const r = await gated.delay();
  await expect.poll(async () => (await app.backend.getResult(r.id)).state).toBe('STARTED');
  release();
  expect(await r.get({ timeout: 5000 })).toBe('done');
  const again = await retrying.delay();
  await expect.poll(async () => (await app.backend.getResult(again.id)).state).toBe('RETRY');
  expect((await app.backend.getResult(again.id)).result).toMatchObject({ excType: 'TypeError', message: expect.stringContaining('try later') });
});

it('warm stop gives back messages waiting for a rate-limit token or a near ETA', async () => {
  const { app, conn, queue, worker } = setup();
  const ran: number[] = [];
  const limited = app.task('t.limited', (i: number) => ran.push(i), { rateLimit: '1/m' });
  const soon = app.task('t.soon', (i: number) => ran.push(i));
  const w = await worker({ concurrency: 2, etaHoldMax: 5000 });
  await limited.delay(1);
  await limited.delay(2);
  await soon.applyAsync([3], {}, { countdown: 3000 });
  await expect.poll(() => ran).toEqual([1]);
  await new Promise((r) => setTimeout(r, 200));
  await w.stop();
  // The second rate-limited call and the held ETA task are back in the queue, not run, not lost.
  expect(ran).toEqual([1]);
  expect(await conn.queueSize(queue)).toBe(2);
});
