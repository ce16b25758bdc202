/**
 * pool: 'threads' — module tasks run in worker threads (tinypool): results, failures and retries
 * cross back, maxTasksPerChild replaces threads, function tasks still run on the main thread.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { moduleTask, TaskRevokedError } from '@nori/tasks';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

// Plain JavaScript: pool threads load modules without the test runner's TypeScript transform.
const CPU = new URL('./fixtures/cpu-tasks.mjs', import.meta.url);
const CHILD = new URL('./fixtures/child-tasks.mjs', import.meta.url);
const THREADS = { pool: 'threads' } as const;

it('runs module tasks in worker threads; results, failures, retries and Reject come back', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const reject = app.task('cpu.reject', moduleTask<() => never>(CHILD, 'reject'));
  const fib = app.task('cpu.fib', moduleTask<(n: number) => number>(CPU, 'fib'));
  const whoami = app.task('cpu.whoami', moduleTask<() => number>(CPU, 'whoami'));
  const retry = app.task('cpu.retry', moduleTask<() => string>(CPU, 'retryOnce'));
  const fail = app.task('cpu.fail', moduleTask<() => never>(CPU, 'fail'));
  const inline = app.task('cpu.inline', () => threadId);
  const w = await worker({ ...THREADS, concurrency: 2 });
  const rejected: string[] = [];
  w.on('task-rejected', (r, i) => rejected.push(`${r?.id} ${i.reason.name} ${i.reason.message}`));
  expect(await (await fib.delay(20)).get({ timeout: 20_000 })).toBe(6765);
  expect(await (await whoami.delay()).get({ timeout: 20_000 })).not.toBe(threadId);
  expect(await (await inline.delay()).get({ timeout: 20_000 })).toBe(threadId);
  expect(await (await retry.delay()).get({ timeout: 20_000 })).toMatch(/^retried 1 in thread \d+$/);
  await expect((await fail.delay()).get({ timeout: 20_000 })).rejects.toMatchObject({
    excType: 'RangeError',
    message: expect.stringContaining('out of range in a thread'),
  });
  // Reject steers the worker from a thread too: the message is rejected, nothing stored.
  const r = await reject.delay();
  await expect.poll(() => rejected, { timeout: 20_000 }).toEqual([`${r.id} Reject no thanks`]);
  expect(await r.refresh()).toMatchObject({ state: 'PENDING' });
});

it('the soft limit aborts the signal of a task running in a thread', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const soft = app.task('cpu.soft', moduleTask<() => { soft: boolean; message: string }>(CHILD, 'softLimited'), { softTimeLimit: 300 });
  await worker({ ...THREADS, concurrency: 1 });
  expect(await (await soft.delay()).get({ timeout: 20_000 })).toMatchObject({ soft: true, message: 'task exceeded its soft time limit of 300 ms' });
});

it('maxTasksPerChild: 1 runs every task in a fresh thread', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const whoami = app.task('cpu.whoami', moduleTask<() => number>(CPU, 'whoami'));
  await worker({ ...THREADS, concurrency: 1, maxTasksPerChild: 1 });
  const ids: unknown[] = [];
  for (let i = 0; i < 3; i++) ids.push(await (await whoami.delay()).get({ timeout: 20_000 }));
  expect(new Set(ids).size).toBe(3);
});

it('a module task outside the thread pool runs on the main thread', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const whoami = app.task('cpu.whoami', moduleTask<() => number>(CPU, 'whoami'));
  await worker();
  expect(await (await whoami.delay()).get({ timeout: 20_000 })).toBe(threadId);
});

it('revoke(terminate) ends the thread running the task; with concurrency 1 the next thread task runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nori-terminate-'));
  const file = join(dir, 'ticks');
  const ticks = async (): Promise<number> => (await readFile(file, 'utf8').catch(() => '')).length;
  try {
    const { app, worker } = testbed(REDIS, { backend: REDIS });
    const tick = app.task('cpu.tick', moduleTask<(file: string) => never>(CPU, 'tick'));
    const fib = app.task('cpu.fib', moduleTask<(n: number) => number>(CPU, 'fib'));
    await worker({ ...THREADS, concurrency: 1 });
    const running = await tick.delay(file);
    await waitFor('the task to tick in its thread', async () => (await ticks()) > 0);
    await running.revoke({ terminate: true });
    await expect(running.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskRevokedError);
    // The only thread was ended and replaced: the next task runs.
    expect(await (await fib.delay(15)).get({ timeout: 10_000 })).toBe(610);
    // Nothing of the terminated run goes on.
    const after = await ticks();
    await new Promise((r) => setTimeout(r, 300));
    expect(await ticks()).toBe(after);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
