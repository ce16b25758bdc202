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
  } finally {
    channel.unsubscribe(handlers);
  }
});

it('trackStarted stores STARTED with the pid and worker before the task runs', async () => {
  const { app, worker } = setup();
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const tracked = app.task('tr.tracked', () => gate, { trackStarted: true });
  const untracked = app.task('tr.untracked', () => gate);
  const w = await worker();
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
