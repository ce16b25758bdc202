/**
 * The tracer's steps on memory:// (process-local, fast): how each run ends on the `nori:task:run`
 * tracing channel (state, exception, the run's context), STARTED stored with trackStarted, what
 * ignoreResult stores (nothing, or failures with storeErrorsEvenIfIgnored) and what it still sends
 * (link callbacks, the chain's next step, link_error callbacks only where the failure is stored).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, expect, it } from 'vitest';
import { currentTask, Ignore, Reject, type AppOptions } from '@nori/tasks';
import type { TaskRunTraceContext } from '@nori/tasks/events';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const setup = (options: AppOptions = {}) => testbed('memory://', { backend: 'memory://', ...options });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('each run ends on nori:task:run with its state and exception, and the run’s name, id, retries, headers, worker, queue, transport', async () => {
  const { app, worker, queue } = setup();
  const ended: TaskRunTraceContext[] = [];
  const channel = tracingChannel<unknown, TaskRunTraceContext>('nori:task:run');
  const none = (): void => undefined;
  const handlers = { start: none, end: none, asyncStart: none, error: none, asyncEnd: (ctx: TaskRunTraceContext) => void ended.push({ ...ctx }) };
  channel.subscribe(handlers);
  try {
    const boom = new Error('boom');
    const why = new Error('why');
    const ok = app.task('tr.ok', (x: number) => x + 1);
    const bad = app.task('tr.bad', () => {
      throw boom;
    });
    const again = app.task('tr.again', () => (currentTask().retries === 0 ? currentTask().retry({ countdown: 1, exc: why }) : 'again'));
    const rejected = app.task('tr.reject', () => {
      throw new Reject('no', false);
    });
    const ignored = app.task('tr.ignore', () => {
      throw new Ignore();
    });
    const hang = app.task('tr.hang', () => new Promise(() => undefined));
    const w = await worker({ concurrency: 4 });
    const errors: Error[] = [];
    w.on('error', (e) => errors.push(e));
    const started: string[] = [];
    w.on('task-started', (r) => started.push(r.id));
    const r1 = await ok.delay(1);
    expect(await r1.get({ timeout: 5000 })).toBe(2);
    const r2 = await bad.delay();
    await r2.get({ timeout: 5000, propagate: false });
    const r3 = await again.delay();
    expect(await r3.get({ timeout: 5000 })).toBe('again');
    const r4 = await rejected.delay();
    const r5 = await ignored.delay();
    const r6 = await hang.delay();
    await expect.poll(() => started.includes(r6.id)).toBe(true);
    expect(w.terminate(r6.id)).toBe(true);
    await expect.poll(() => ended.length, { timeout: 5000 }).toBe(7);
    const of = (id: string) =>
      ended
        .filter((c) => c.id === id)
        .sort((a, b) => a.retries - b.retries)
        .map(({ name, retries, state, exception }) => ({ name, retries, state, exception }));
    expect(of(r1.id)).toEqual([{ name: 'tr.ok', retries: 0, state: 'SUCCESS', exception: undefined }]);
    expect(of(r2.id)).toEqual([{ name: 'tr.bad', retries: 0, state: 'FAILURE', exception: boom }]);
    expect(of(r3.id)).toEqual([
      { name: 'tr.again', retries: 0, state: 'RETRY', exception: why },
      { name: 'tr.again', retries: 1, state: 'SUCCESS', exception: undefined },
    ]);
    expect(of(r4.id)).toEqual([{ name: 'tr.reject', retries: 0, state: 'REJECTED', exception: undefined }]);
    expect(of(r5.id)).toEqual([{ name: 'tr.ignore', retries: 0, state: 'IGNORED', exception: undefined }]);
    expect(of(r6.id)).toEqual([{ name: 'tr.hang', retries: 0, state: 'REVOKED', exception: undefined }]);
    for (const c of ended) {
      expect(c).toMatchObject({ hostname: w.hostname, queue, transport: 'memory' });
      expect(c.headers['id']).toBe(c.id);
    }
    // No step for what these tasks do not have (a once-lock to release) was taken and failed.
    expect(errors).toEqual([]);
  } finally {
    channel.unsubscribe(handlers);
  }
});

it('trackStarted stores STARTED with the pid and worker before the task runs', async () => {
  const { app, worker } = setup();
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const tracked = app.task('tr.tracked', () => gate, { trackStarted: true });
  // Early-acked, so it takes the steps before the run too: only trackStarted stores STARTED there.
  const untracked = app.task('tr.untracked', () => gate, { acksLate: false });
  const w = await worker();
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  const r = await tracked.delay();
  const u = await untracked.delay();
  try {
    await expect.poll(async () => (await r.refresh()).state, { timeout: 5000 }).toBe('STARTED');
    expect(r.info).toEqual({ pid: process.pid, hostname: w.hostname });
    expect((await u.refresh()).state).toBe('PENDING');
  } finally {
    release();
  }
  await r.get({ timeout: 5000 });
  expect(r.state).toBe('SUCCESS');
  expect(errors).toEqual([]);
});

it('ignoreResult stores nothing, failures too unless storeErrorsEvenIfIgnored; callbacks and the chain still go on', async () => {
  const { app, worker } = setup();
  const calls: unknown[][] = [];
  const record = app.task('tr.record', (...args: unknown[]) => void calls.push(args));
  const quiet = app.task('tr.quiet', (x: number) => x * 10, { ignoreResult: true });
  const failsQuietly = app.task(
    'tr.failsQuietly',
    () => {
      throw new Error('quiet');
    },
    { ignoreResult: true },
  );
  const failsStored = app.task(
    'tr.failsStored',
    () => {
      throw new Error('stored');
    },
    { ignoreResult: true, storeErrorsEvenIfIgnored: true },
  );
  const w = await worker();
  const failed: string[] = [];
  w.on('task-failed', (r) => failed.push(r.id));
  const q = await quiet.applyAsync([1], {}, { link: [record.s(['link'])] });
  const c = await quiet.applyAsync([2], {}, { chain: [record.s(['chain'])] });
  const f = await failsQuietly.applyAsync([], {}, { linkError: [record.si(['quiet errback'])] });
  const s = await failsStored.applyAsync([], {}, { linkError: [record.si(['stored errback'])] });
  await expect.poll(() => failed.length, { timeout: 5000 }).toBe(2);
  await expect.poll(() => calls.length, { timeout: 5000 }).toBe(3);
  await sleep(100);
  expect(calls.map(String).sort()).toEqual(['10,link', '20,chain', 'stored errback']);
  expect((await q.refresh()).state).toBe('PENDING');
  expect((await c.refresh()).state).toBe('PENDING');
  expect((await f.refresh()).state).toBe('PENDING');
  expect((await s.refresh()).state).toBe('FAILURE');
});

it('trackStarted with late acks stores STARTED but acks at the end: a cold stop mid-task gives the message back', async () => {
  const { app, worker, conn, queue } = setup();
  const hang = app.task('tr.trackedHang', () => new Promise<never>(() => undefined), { trackStarted: true });
  const w = await worker({ concurrency: 1 });
  const r = await hang.delay();
  await expect.poll(async () => (await r.refresh()).state, { timeout: 5000 }).toBe('STARTED');
  const warm = w.stop();
  await w.stop();
  await warm;
  expect(await conn.queueSize(queue)).toBe(1);
});

it('a cold stop abandons a running task: whatever it does later is neither stored, hooked nor settled', async () => {
  const { app, worker } = setup();
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const slow = app.task('tr.abandoned', async () => (await gate, 'late'));
  const w = await worker({ concurrency: 1 });
  const ended: string[] = [];
  w.on('task-succeeded', (r) => ended.push(r.id));
  const started = new Promise((resolve) => w.on('task-started', resolve));
  const r = await slow.delay();
  await started;
  const warm = w.stop();
  await w.stop();
  await warm;
  release();
  await sleep(100);
  expect((await r.refresh()).state).toBe('PENDING');
  expect(ended).toEqual([]);
});

it('counts runs per task name, hooks the runtime, and tells revoked from expired from terminated', async () => {
  const { app, worker } = setup();
  const quick = app.task('tr.quick', () => 'q');
  const nap = app.task('tr.nap', () => sleep(60).then(() => 'n'));
  const hang = app.task('tr.hangs', () => new Promise(() => undefined));
  const w = await worker({ concurrency: 2 });
  const runtimes = new Map<string, number>();
  w.on('task-succeeded', (r, { runtime }) => runtimes.set(r.name, runtime));
  const revokedInfo = new Map<string, { expired: boolean; terminated: boolean }>();
  w.on('task-revoked', (r, info) => revokedInfo.set(r.id, info));
  await (await quick.delay()).get({ timeout: 5000 });
  await (await quick.delay()).get({ timeout: 5000 });
  await (await nap.delay()).get({ timeout: 5000 });
  expect(Object.fromEntries(w.total)).toEqual({ 'tr.quick': 2, 'tr.nap': 1 });
  // The hook comes after the result is stored.
  await expect.poll(() => runtimes.size).toBe(2);
  expect(runtimes.get('tr.nap')).toBeGreaterThanOrEqual(50);
  expect(runtimes.get('tr.nap')).toBeLessThan(2000);
  expect(runtimes.get('tr.quick')).toBeGreaterThanOrEqual(0);
  expect(runtimes.get('tr.quick')).toBeLessThan(50);
  const expired = await quick.applyAsync([], {}, { expires: new Date(0) });
  const revokedId = 'tr-revoked-id';
  w.revoked.add(revokedId);
  const revoked = await quick.applyAsync([], {}, { taskId: revokedId });
  const terminated = await hang.delay();
  await expect.poll(() => w.held.size).toBe(1);
  await expect.poll(() => [...w.held].every((t) => t.startedAt !== null)).toBe(true);
  expect(w.terminate(terminated.id)).toBe(true);
  const reasons = await Promise.all(
    [expired, revoked, terminated].map((r) =>
      r.get({ timeout: 5000 }).then(
        () => 'ran',
        (e: { excMessage?: unknown }) => e.excMessage,
      ),
    ),
  );
  expect(reasons).toEqual([['expired'], ['revoked'], ['terminated']]);
  expect([expired, revoked, terminated].map((r) => revokedInfo.get(r.id))).toEqual([
    { expired: true, terminated: false },
    { expired: false, terminated: false },
    { expired: false, terminated: true },
  ]);
});

it('ignoreResult per call stores nothing either; an ignored retrying task leaves no RETRY behind', async () => {
  const { app, worker } = setup();
  const plain = app.task('tr.plain', () => 'plain');
  const fails = app.task('tr.fails', () => {
    throw new Error('not stored');
  });
  const retrying = app.task('tr.retrying', () => (currentTask().retries === 0 ? currentTask().retry({ countdown: 1 }) : 'done'), { ignoreResult: true });
  const w = await worker();
  const done: string[] = [];
  w.on('task-succeeded', (r) => done.push(r.id));
  w.on('task-failed', (r) => done.push(r.id));
  const p = await plain.applyAsync([], {}, { ignoreResult: true });
  const f = await fails.applyAsync([], {}, { ignoreResult: true });
  const r = await retrying.delay();
  await expect.poll(() => done.length, { timeout: 5000 }).toBe(3);
  expect((await p.refresh()).state).toBe('PENDING');
  expect((await f.refresh()).state).toBe('PENDING');
  expect((await r.refresh()).state).toBe('PENDING');
});

it('Reject says whether it requeues (and a requeued task runs again), Ignore is neither failed nor stored', async () => {
  const { app, worker } = setup();
  const runs: Array<{ id: string; redelivered: boolean | undefined }> = [];
  const requeue = app.task('tr.requeue', () => {
    const { id, deliveryInfo } = currentTask();
    runs.push({ id, redelivered: deliveryInfo.redelivered });
    if (runs.length === 1) throw new Reject('again', true);
    return 'second';
  });
  const drop = app.task('tr.drop', () => {
    throw new Reject('gone', false);
  });
  const ignore = app.task('tr.ignored', () => {
    throw new Ignore();
  });
  const w = await worker();
  const rejected: Array<[string | undefined, boolean]> = [];
  const failed: string[] = [];
  w.on('task-rejected', (r, { requeue: again }) => rejected.push([r?.name, again]));
  w.on('task-failed', (r) => failed.push(r.name));
  const q = await requeue.delay();
  expect(await q.get({ timeout: 5000 })).toBe('second');
  expect(runs.map((r) => r.id)).toEqual([q.id, q.id]);
  const d = await drop.delay();
  const i = await ignore.delay();
  await expect.poll(() => rejected.length, { timeout: 5000 }).toBe(2);
  await sleep(100);
  expect(rejected).toEqual([
    ['tr.requeue', true],
    ['tr.drop', false],
  ]);
  expect(failed).toEqual([]);
  expect((await d.refresh()).state).toBe('PENDING');
  expect((await i.refresh()).state).toBe('PENDING');
});

it('autoretryFor retries an error of any class it names; an AbortError of the task’s own is no soft limit', async () => {
  const { app, worker } = setup();
  class First extends Error {}
  class Second extends Error {}
  const tries: number[] = [];
  const either = app.task(
    'tr.either',
    () => {
      tries.push(currentTask().retries);
      if (currentTask().retries === 0) throw new Second('second');
      return 'retried';
    },
    { autoretryFor: [First, Second], defaultRetryDelay: 1 },
  );
  const aborts = app.task('tr.aborts', () => {
    throw new DOMException('my own abort', 'AbortError');
  });
  await worker();
  expect(await (await either.delay()).get({ timeout: 5000 })).toBe('retried');
  expect(tries).toEqual([0, 1]);
  await expect((await aborts.delay()).get({ timeout: 5000 })).rejects.toMatchObject({ message: expect.stringContaining('my own abort') });
});

it('autoretryFor as a predicate retries what it accepts', async () => {
  const { app, worker } = setup();
  const tries: number[] = [];
  const picky = app.task(
    'tr.picky',
    () => {
      tries.push(currentTask().retries);
      if (currentTask().retries === 0) throw new Error('try again');
      return 'accepted';
    },
    { autoretryFor: (error) => (error as Error).message === 'try again', defaultRetryDelay: 1 },
  );
  await worker();
  expect(await (await picky.delay()).get({ timeout: 5000 })).toBe('accepted');
  expect(tries).toEqual([0, 1]);
});

it('past the soft limit, whatever the handler throws for it is stored as SoftTimeLimitExceeded, else as itself', async () => {
  const { app, worker } = setup();
  const after = (make: (reason: unknown) => unknown) => async () => {
    const { signal } = currentTask();
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    throw make(signal.reason);
  };
  const cycle = (): Error => {
    const e = new Error('its own cause');
    (e as { cause?: unknown }).cause = e;
    return e;
  };
  const limit = { softTimeLimit: 50 };
  const wrapped = app.task(
    'tr.wrapped',
    after((reason) => new Error('wrapped', { cause: reason })),
    limit,
  );
  const aborted = app.task(
    'tr.aborted',
    after(() => new DOMException('aborted', 'AbortError')),
    limit,
  );
  const text = app.task(
    'tr.text',
    after(() => 'a string'),
    limit,
  );
  const cyclic = app.task('tr.cyclic', after(cycle), limit);
  await worker({ concurrency: 4 });
  const results = await Promise.all([wrapped, aborted, text, cyclic].map(async (t) => (await t.delay()).get({ timeout: 5000, propagate: false })));
  expect(results.map((r) => (r as { excType?: string }).excType)).toEqual(['SoftTimeLimitExceeded', 'SoftTimeLimitExceeded', expect.any(String), 'Error']);
  expect(results[2]).toMatchObject({ message: expect.stringContaining('a string') });
});
