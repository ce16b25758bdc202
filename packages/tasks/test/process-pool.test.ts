/**
 * pool: 'process' — module tasks run in child processes: results, failures, retries, Reject and
 * the task's context cross back; the soft limit reaches the child's signal; maxTasksPerChild and
 * maxMemoryPerChild replace children; function tasks still run in the worker. (What kills children
 * is in process-pool.fault.test.ts.)
 */
import { afterEach, expect, it } from 'vitest';
import { moduleTask } from '@nori/tasks';
import { REDIS } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

// Plain JavaScript: children load task modules with plain Node.
const CPU = new URL('./fixtures/cpu-tasks.mjs', import.meta.url);
const CHILD = new URL('./fixtures/child-tasks.mjs', import.meta.url);
const PROCESS = { pool: 'process' } as const;

it('runs module tasks in child processes; results, failures, retries, Reject and the context come back', async () => {
  const { app, queue, worker } = testbed(REDIS, { backend: REDIS });
  const fib = app.task('child.fib', moduleTask<(n: number) => number>(CPU, 'fib'));
  const pid = app.task('child.pid', moduleTask<() => number>(CHILD, 'pid'));
  const context = app.task('child.context', moduleTask<() => Record<string, unknown>>(CHILD, 'context'));
  const retry = app.task('child.retry', moduleTask<() => string>(CPU, 'retryOnce'));
  const fail = app.task('child.fail', moduleTask<() => never>(CPU, 'fail'));
  const reject = app.task('child.reject', moduleTask<() => never>(CHILD, 'reject'));
  const inline = app.task('child.inline', () => process.pid);
  const w = await worker({ ...PROCESS, concurrency: 2 });
  const rejected: string[] = [];
  w.on('task-rejected', (r, i) => rejected.push(`${r?.id} ${i.reason.name} ${i.reason.message}`));
  expect(await (await fib.delay(20)).get({ timeout: 20_000 })).toBe(6765);
  const childPid = await (await pid.delay()).get({ timeout: 20_000 });
  expect(childPid).not.toBe(process.pid);
  expect(await (await inline.delay()).get({ timeout: 20_000 })).toBe(process.pid);
  const c = await context.delay();
  expect(await c.get({ timeout: 20_000 })).toEqual({ id: c.id, name: 'child.context', retries: 0, queue, pid: expect.any(Number) });
  expect(await (await retry.delay()).get({ timeout: 20_000 })).toMatch(/^retried 1 in thread \d+$/);
  await expect((await fail.delay()).get({ timeout: 20_000 })).rejects.toMatchObject({
    excType: 'RangeError',
    message: expect.stringContaining('out of range in a thread'),
  });
  const r = await reject.delay();
  await expect.poll(() => rejected, { timeout: 20_000 }).toEqual([`${r.id} Reject no thanks`]);
  expect(await r.refresh()).toMatchObject({ state: 'PENDING' });
});

it('the soft limit aborts the signal of a task running in a child', async () => {
  const { app, worker } = testbed(REDIS, { backend: REDIS });
  const soft = app.task('child.soft', moduleTask<() => { soft: boolean; message: string; pid: number }>(CHILD, 'softLimited'), { softTimeLimit: 300 });
  await worker({ ...PROCESS, concurrency: 1 });
  const value = await (await soft.delay()).get({ timeout: 20_000 });
  expect(value).toEqual({ soft: true, message: 'task exceeded its soft time limit of 300 ms', pid: expect.any(Number) });
  expect(value.pid).not.toBe(process.pid);
});

it('maxTasksPerChild: 1 runs every task in a fresh child; maxMemoryPerChild replaces a child past it', async () => {
  for (const recycle of [{ maxTasksPerChild: 1 }, { maxMemoryPerChild: 1 }, {}]) {
    const { app, worker } = testbed(REDIS, { backend: REDIS });
    const pid = app.task('child.pid', moduleTask<() => number>(CHILD, 'pid'));
    await worker({ ...PROCESS, concurrency: 1, ...recycle });
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push(await (await pid.delay()).get({ timeout: 20_000 }));
    // Without a recycling option one child runs them all.
    expect(new Set(pids).size).toBe(Object.keys(recycle).length === 0 ? 1 : 3);
    await cleanup();
  }
});
