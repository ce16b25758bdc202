/**
 * #22.13's smaller edges: awaiting many results at once prints no MaxListenersExceededWarning;
 * `await using` closes an App and stops a Worker; a failure's stored traceback keeps the task's
 * own frames, with paths relative to the working directory, not nori's frames or file URLs.
 */
import { afterEach, expect, it } from 'vitest';
import { App } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

it('awaiting 50 results at once adds no MaxListenersExceededWarning', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const slow = app.task('edge.slow', (n: number) => new Promise((r) => setTimeout(() => r(n), 50)));
  await worker({ concurrency: 50 });
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  try {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => slow.delay(i)));
    expect(await Promise.all(results.map((r) => r.get({ timeout: 10_000 })))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
});

it('await using stops a worker and closes an App', async () => {
  let app: App | undefined;
  const stopped: string[] = [];
  {
    await using disposable = new App({ broker: 'memory://', backend: 'memory://', defaultQueue: `edge-${Date.now()}` });
    app = disposable;
    disposable.task('edge.one', () => 1);
    await using worker = disposable.worker();
    worker.on('worker-shutdown', () => stopped.push('worker'));
    await worker.start();
    expect(await (await disposable.sendTask('edge.one', [])).get({ timeout: 5000 })).toBe(1);
  }
  expect(stopped).toEqual(['worker']);
  // Closed: its backend no longer waits for anything.
  await expect(app.result('x').get({ timeout: 1000 })).rejects.toThrow(/closed/);
});

function userFailure(): never {
  throw new RangeError('from the user');
}

it("a failure's traceback keeps the task's own frames, paths relative to the working directory", async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const failing = app.task('edge.fail', async () => {
    await Promise.resolve();
    userFailure();
  });
  await worker();
  const result = await failing.delay();
  const error = await result.get({ timeout: 5000, propagate: false });
  const traceback = (error as { traceback: string }).traceback;
  expect(traceback.split('\n')[0]).toBe('RangeError: from the user');
  expect(traceback).toContain('at userFailure (packages/tasks/test/small-edges.test.ts:');
  expect(traceback).not.toContain('file://');
  expect(traceback).not.toContain(process.cwd());
  expect(traceback).not.toMatch(/packages\/tasks\/src|packages\/core\/src|node:internal/);
});
