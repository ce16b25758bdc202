/**
 * pool: 'process' when tasks misbehave: a hung async task and a CPU loop are killed at the hard
 * limit, a task that calls process.exit() or runs out of memory fails with WorkerLostError (or is
 * given back with rejectOnWorkerLost), terminate kills the child; each time the worker lives on and
 * its next task runs in a fresh child.
 */
import { afterEach, expect, it } from 'vitest';
import { moduleTask, TaskRevokedError } from '@nori/tasks';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

// Plain JavaScript: children load task modules with plain Node.
const CPU = new URL('./fixtures/cpu-tasks.mjs', import.meta.url);
const CHILD = new URL('./fixtures/child-tasks.mjs', import.meta.url);
const PROCESS = { pool: 'process', concurrency: 1 } as const;

it('the hard limit kills a hung async task and a CPU loop; the next task runs', async () => {
  const { app, worker } = testbed(REDIS, { backend: REDIS });
  const hang = app.task('child.hang', moduleTask<() => Promise<void>>(CHILD, 'hang'), { timeLimit: 1000 });
  const spin = app.task('child.spin', moduleTask<() => never>(CPU, 'spin'), { timeLimit: 1000 });
  const pid = app.task('child.pid', moduleTask<() => number>(CHILD, 'pid'));
  await worker(PROCESS);
  const first = await (await pid.delay()).get({ timeout: 20_000 });
  for (const task of [hang, spin]) {
    await expect((await task.delay()).get({ timeout: 20_000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded', excModule: 'billiard.exceptions' });
  }
  const next = await (await pid.delay()).get({ timeout: 20_000 });
  expect(next).not.toBe(first);
}, 60_000);

it('process.exit() and running out of memory in a task: WorkerLostError stored, the worker goes on', async () => {
  const { app, worker } = testbed(REDIS, { backend: REDIS });
  const exit = app.task('child.exit', moduleTask<(code: number) => never>(CHILD, 'exit'));
  const oom = app.task('child.oom', moduleTask<() => never>(CHILD, 'oom'));
  const pid = app.task('child.pid', moduleTask<() => number>(CHILD, 'pid'));
  await worker({ ...PROCESS, childExecArgv: ['--max-old-space-size=32'] });
  await expect((await exit.delay(3)).get({ timeout: 20_000 })).rejects.toMatchObject({
    excType: 'WorkerLostError',
    excModule: 'billiard.exceptions',
    message: expect.stringContaining('Worker exited prematurely: exitcode 3'),
  });
  await expect((await oom.delay()).get({ timeout: 60_000 })).rejects.toMatchObject({
    excType: 'WorkerLostError',
    message: expect.stringMatching(/Worker exited prematurely: (signal 6 \(SIGABRT\)|signal 5 \(SIGTRAP\)|exitcode 134)/),
  });
  expect(await (await pid.delay()).get({ timeout: 20_000 })).not.toBe(process.pid);
}, 90_000);

it('rejectOnWorkerLost: the message of a task whose child exited is given back and runs again', async () => {
  const { app, worker } = testbed(REDIS, { backend: REDIS, rejectOnWorkerLost: true });
  const exit = app.task('child.exitOnce', moduleTask<() => string>(CHILD, 'exitUnlessRedelivered'));
  await worker(PROCESS);
  expect(await (await exit.delay()).get({ timeout: 30_000 })).toMatch(/^survived in \d+$/);
}, 60_000);

it('revoke(terminate) kills the child running the task; the next task runs', async () => {
  const { app, worker } = testbed(REDIS, { backend: REDIS });
  const hang = app.task('child.hang', moduleTask<() => Promise<void>>(CHILD, 'hang'));
  const pid = app.task('child.pid', moduleTask<() => number>(CHILD, 'pid'));
  const w = await worker(PROCESS);
  const running = await hang.delay();
  await waitFor('the task to run', () => w.active === 1);
  await running.revoke({ terminate: true });
  await expect(running.get({ timeout: 20_000 })).rejects.toBeInstanceOf(TaskRevokedError);
  expect(await (await pid.delay()).get({ timeout: 20_000 })).not.toBe(process.pid);
}, 60_000);
