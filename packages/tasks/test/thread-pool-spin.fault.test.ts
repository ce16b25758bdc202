/**
 * A CPU-bound infinite loop in the thread pool: the hard time limit terminates its thread, the task
 * fails with TimeLimitExceeded, and the worker keeps serving (a replacement thread runs the next task).
 */
import { afterEach, expect, it } from 'vitest';
import { moduleTask } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

// Plain JavaScript: pool threads load modules without the test runner's TypeScript transform.
const CPU = new URL('./fixtures/cpu-tasks.mjs', import.meta.url);
const THREADS = { pool: 'threads' } as const;

it('the hard limit stops an infinite loop in a thread and the worker keeps serving', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const spin = app.task('cpu.spin', moduleTask<() => never>(CPU, 'spin'), { timeLimit: 1000 });
  const fib = app.task('cpu.fib', moduleTask<(n: number) => number>(CPU, 'fib'));
  await worker({ ...THREADS, concurrency: 1 });
  const started = Date.now();
  const spun = await spin.delay();
  await expect(spun.get({ timeout: 20_000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded', excModule: 'billiard.exceptions' });
  expect(Date.now() - started).toBeLessThan(15_000);
  // The only thread was terminated: the next task runs on its replacement.
  expect(await (await fib.delay(15)).get({ timeout: 20_000 })).toBe(610);
  const twice = await Promise.all([spin.delay(), fib.delay(10)]);
  await expect(twice[0].get({ timeout: 20_000 })).rejects.toMatchObject({ excType: 'TimeLimitExceeded' });
  expect(await twice[1].get({ timeout: 20_000 })).toBe(55);
}, 60_000);
