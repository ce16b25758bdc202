/**
 * #28.1: what the task layer itself costs a trivial task, counted rather than timed (timings move
 * with the machine's load): the promises created in @nori/tasks' own frames while a worker runs
 * queued tasks that return synchronously, with no result stored, on memory://. Each async frame on
 * the path costs promises (and a frame and its awaits), so the count catches a path that grew one.
 * Before #28.1 it was 10 a task (admission's receive, the tracer's run and after-task steps and
 * settle, two each as async functions; the consumer's wrapper for a cold stop and its `then`);
 * now 4 (the wrapper and its `then`, admission's guard around the tracer, the settle's `catch`).
 */
import { createHook } from 'node:async_hooks';
import { afterEach, expect, it } from 'vitest';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const TASKS = 500;

/** The file of the first frame on the stack with one, besides this file (raw call sites: no source maps, no formatting). */
function creator(): string {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_, sites) => sites;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder);
  const sites = holder.stack ?? [];
  Error.prepareStackTrace = prepare;
  for (const site of sites) {
    const file = site.getFileName() ?? '';
    if (file !== '' && !file.startsWith('node:') && !file.includes('task-path-cost.test')) return file;
  }
  return '';
}

it('a trivial task creates at most 4 promises in the task layer (10 before #28.1)', async () => {
  const { app, worker } = testbed('memory://');
  let done = 0;
  const add = app.task('cost.add', (x: number, y: number) => x + y, { ignoreResult: true });
  const until = async (n: number): Promise<void> => {
    while (done < n) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  // Warm-up, then the tasks queued with no worker consuming, so only a worker's side is counted.
  const warm = await worker({ concurrency: 10 });
  warm.on('task-succeeded', () => void done++);
  for (let i = 0; i < 20; i++) await add.delay(i, 1);
  await until(20);
  await warm.stop();
  for (let i = 0; i < TASKS; i++) await add.delay(i, 1);

  let inTasks = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE' && creator().includes('/packages/tasks/src/')) inTasks++;
    },
  });
  hook.enable();
  try {
    const w = app.worker({ concurrency: 10 });
    w.on('task-succeeded', () => void done++);
    await w.start();
    await until(20 + TASKS);
    await w.stop();
  } finally {
    hook.disable();
  }
  // Starting and stopping the worker make a few dozen: 0.1 a task.
  expect(inTasks / TASKS).toBeLessThanOrEqual(4.2);
});
