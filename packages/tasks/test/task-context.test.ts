/**
 * What `currentTask()` tells a handler, field by field, on memory:// (process-local, fast): the
 * request as sent, the worker's name, where the message came from, its signal, its logger, and
 * that it is built once per run.
 */
import { afterEach, expect, it } from 'vitest';
import type { Logger } from '@nori/core';
import { currentTask, type TaskContext } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

it('carries the request, the worker, the delivery and a logger with the task’s fields', async () => {
  const lines: Array<[string, Record<string, unknown>, string | undefined]> = [];
  const record =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      lines.push(typeof obj === 'string' ? [level, {}, obj] : [level, obj as Record<string, unknown>, msg]);
    };
  const logger = {
    trace: record('trace'),
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    fatal: record('fatal'),
  } as unknown as Logger;
  const { app, worker, queue } = testbed('memory://', { backend: 'memory://', queueMaxPriority: 9, logger });
  let seen: TaskContext | undefined;
  let same = false;
  const t = app.task(
    'ctx.all',
    (a: number) => {
      seen = currentTask();
      same = currentTask() === seen && seen.signal === currentTask().signal;
      seen.logger.info({ step: 1 }, 'inside');
      return a;
    },
    { params: ['a', '**kw'] },
  );
  const w = await worker();
  const eta = new Date(Date.now() + 50);
  const expires = new Date(Date.now() + 60_000);
  const r = await t.applyAsync(
    [7],
    { k: 'v' },
    {
      eta,
      expires,
      priority: 4,
      exchange: queue,
      routingKey: queue,
      replyTo: 'ctx-replies',
      rootId: 'root-9',
      parentId: 'parent-9',
      group: 'g-9',
      link: [t.s([1])],
    },
  );
  expect(await r.get({ timeout: 5000 })).toBe(7);
  expect(same).toBe(true);
  expect(seen).toMatchObject({
    id: r.id,
    name: 'ctx.all',
    args: [7],
    kwargs: { k: 'v' },
    retries: 0,
    rootId: 'root-9',
    parentId: 'parent-9',
    group: 'g-9',
    origin: app.hostname,
    hostname: w.hostname,
    replyTo: 'ctx-replies',
    deliveryInfo: { queue, exchange: queue, routingKey: queue, priority: 4, redelivered: false },
  });
  expect([seen!.eta?.toISOString(), seen!.expires?.toISOString()]).toEqual([eta.toISOString(), expires.toISOString()]);
  expect(seen!.embed.callbacks).toEqual([expect.objectContaining({ task: 'ctx.all', args: [1] })]);
  expect(seen!.signal.aborted).toBe(false);
  expect(lines.filter(([, , msg]) => msg === 'inside')).toEqual([['info', { task_id: r.id, task_name: 'ctx.all', step: 1 }, 'inside']]);
});

it('worker.held shows what it holds: reserved or started (when), acked early or not, gone once done', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const late = app.task('ctx.late', () => gate);
  const early = app.task('ctx.early', () => gate, { acksLate: false });
  const w = await worker({ concurrency: 2 });
  const before = Date.now();
  const [l, e, waiting] = [await late.delay(), await early.delay(), await late.delay()];
  const view = () =>
    Object.fromEntries([...w.held].map((t) => [t.request.id, { started: t.startedAt !== null && t.startedAt >= before, acksEarly: t.acksEarly }]));
  try {
    await expect.poll(view, { timeout: 5000 }).toEqual({
      [l.id]: { started: true, acksEarly: false },
      [e.id]: { started: true, acksEarly: true },
      [waiting.id]: { started: false, acksEarly: false },
    });
  } finally {
    release();
  }
  await Promise.all([l, e, waiting].map((r) => r.get({ timeout: 5000 })));
  await expect.poll(view).toEqual({});
});
