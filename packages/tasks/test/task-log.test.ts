/**
 * Structured logs with pino itself as the App's logger (its JSON lines parsed): the worker's line
 * for each task event carries the task's `task_id` and `task_name` and its outcome, and so does
 * every line a task writes through `currentTask().logger`, on the worker's thread and from a
 * module task in the thread pool. Without a logger nothing is written.
 */
import { afterEach, expect, it } from 'vitest';
import pino from 'pino';
import { currentTask, moduleTask, TaskError } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

type Line = Record<string, unknown> & { level: number; msg: string };

function pinoLines(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug', base: undefined, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

it('with pino as the logger, every task line and every line a task logs has task_id and task_name', async () => {
  const { logger, lines } = pinoLines();
  const { app, worker } = testbed('memory://', { backend: 'memory://', logger });
  const add = app.task('log.add', (x: number, y: number) => {
    currentTask().logger.info({ step: 'adding' }, `adding ${x} and ${y}`);
    return x + y;
  });
  const fail = app.task('log.fail', () => {
    throw new TypeError('no good');
  });
  const flaky = app.task('log.flaky', () => {
    const ctx = currentTask();
    if (ctx.retries === 0) ctx.retry({ countdown: 10, exc: new RangeError('not yet') });
    return ctx.retries;
  });
  const pooled = app.task('log.pooled', moduleTask<(x: number) => number>(new URL('./fixtures/log-tasks.mjs', import.meta.url), 'logs'));
  const w = await worker({ pool: 'threads', concurrency: 2 });

  const added = await add.delay(2, 3);
  expect(await added.get({ timeout: 10_000 })).toBe(5);
  const failed = await fail.delay();
  await expect(failed.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskError);
  const retried = await flaky.delay();
  expect(await retried.get({ timeout: 10_000 })).toBe(1);
  const fromPool = await pooled.delay(7);
  expect(await fromPool.get({ timeout: 20_000 })).toBe(7);

  const of = (id: string): Line[] => lines.filter((l) => l['task_id'] === id);
  const add1 = { task_id: added.id, task_name: 'log.add' };
  expect(of(added.id).map((l) => [l.level, l.msg])).toEqual([
    [30, `Task log.add[${added.id}] received`],
    [30, 'adding 2 and 3'],
    [30, expect.stringMatching(new RegExp(`^Task log\\.add\\[${added.id}\\] succeeded in \\d+\\.\\d{3}s: 5$`))],
  ]);
  expect(of(added.id)[1]).toMatchObject({ ...add1, step: 'adding' });
  expect(of(added.id)[2]).toMatchObject({ ...add1, state: 'SUCCESS', runtime_ms: expect.any(Number) });

  const failLine = of(failed.id).find((l) => l.level === 50);
  expect(failLine).toMatchObject({ task_name: 'log.fail', state: 'FAILURE', err: { type: 'TypeError', message: 'no good' } });
  expect(failLine?.msg).toBe(`Task log.fail[${failed.id}] raised unexpected: TypeError('no good')`);

  const retryLine = of(retried.id).find((l) => l['state'] === 'RETRY');
  expect(retryLine).toMatchObject({ level: 30, task_name: 'log.flaky', retries: 0, err: { type: 'RangeError', message: 'not yet' } });
  expect(of(retried.id).filter((l) => l['state'] === 'SUCCESS')).toHaveLength(1);

  expect(of(fromPool.id).filter((l) => !l.msg.startsWith('Task '))).toMatchObject([
    { level: 30, msg: 'from the pool', x: 7, task_name: 'log.pooled' },
    { level: 40, task_name: 'log.pooled', err: { message: 'odd 7' } },
  ]);
  // Every line about a task names it; the others are the worker's and its connections' own.
  for (const line of lines.filter((l) => l.msg?.startsWith('Task ')))
    expect(line).toMatchObject({ task_id: expect.any(String), task_name: expect.any(String) });
  expect(lines.filter((l) => l['task_id'] === undefined).map((l) => l.msg)).toContain(`${w.hostname} ready.`);
});

it('without a logger nothing is written, and currentTask().logger is silent', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const add = app.task('log.quiet', (x: number) => {
    currentTask().logger.info('nobody hears this');
    return x;
  });
  await worker();
  expect(await (await add.delay(1)).get({ timeout: 10_000 })).toBe(1);
});

it('a module task in the process pool logs through the worker too, with its task_id and task_name', async () => {
  const { logger, lines } = pinoLines();
  const { app, worker } = testbed('memory://', { backend: 'memory://', logger });
  const pooled = app.task('log.child', moduleTask<(x: number) => number>(new URL('./fixtures/log-tasks.mjs', import.meta.url), 'logs'));
  await worker({ pool: 'process', concurrency: 1 });
  const r = await pooled.delay(9);
  expect(await r.get({ timeout: 20_000 })).toBe(9);
  expect(lines.filter((l) => l['task_id'] === r.id && !l.msg.startsWith('Task '))).toMatchObject([
    { level: 30, msg: 'from the pool', x: 9, task_name: 'log.child' },
    { level: 40, task_name: 'log.child', err: { message: 'odd 9' } },
  ]);
});
