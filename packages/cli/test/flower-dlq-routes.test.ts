/**
 * The dead-letter page's routes in-process, on the memory broker: the queues the server finds, a
 * queue's letters, replaying and purging by id, by limit and (purge) all, what each answers and
 * refuses. flower-dlq.test.ts does the same on Redis, RabbitMQ and MongoDB through the `nori` CLI
 * in a child process, where a mutation audit cannot see it.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Exchange, Queue } from '@nori/core';
import { App } from '@nori/tasks';
import { startFlower, type FlowerServer } from '../src/flower/server.js';
import { giveUp } from './dead-letters.js';
import { ask, type Answer } from './http-ask.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

interface Setup {
  app: App;
  server: FlowerServer;
  work: Queue;
  dlq: Queue;
  /** The dead letters' ids, in the queue's order. */
  ids: string[];
  get(path: string): Promise<Answer>;
  post(path: string): Promise<Answer>;
}

/** `count` tasks dead-lettered from `work` into `dlq` (the app's default queue), and a server. */
async function setup(count: number, readOnly = false): Promise<Setup> {
  const n = randomUUID().slice(0, 8);
  const dlx = new Exchange(`flower-dlx-${n}`, { type: 'direct' });
  const work = new Queue(`flower-work-${n}`, { deadLetterExchange: dlx.name });
  const dlq = new Queue(`flower-dlq-${n}`, { exchange: dlx, routingKey: work.name });
  const app = new App({ broker: 'memory://', backend: 'memory://', queues: [work, dlq], defaultQueue: dlq.name });
  closing.push(() => app.close());
  await app.connection.declare(dlq);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await app.sendTask('t.add', [i, 1], {}, { queue: work.name })).taskId);
  await giveUp(app.connection, work, dlq, count);
  const server = await startFlower(app, { port: 0, unauthenticatedApi: true, inspectTimeout: 100, readOnly });
  closing.push(() => server.close());
  return {
    app,
    server,
    work,
    dlq,
    ids,
    get: (path) => ask(`${server.url}${path}`),
    post: (path) => ask(`${server.url}${path}`, { method: 'POST' }),
  };
}

const parsed = (a: Answer): Record<string, unknown> => JSON.parse(a.body) as Record<string, unknown>;
const statusAndError = (a: Answer): [number, unknown] => [a.status, parsed(a)['error']];

describe('flower dead-letter routes (in-process)', () => {
  it('finds the dead-letter queue among the known ones, and lists its letters without taking them', async () => {
    const s = await setup(3);
    // The work queue holds a message that was never dead-lettered: it is no dead-letter queue.
    await s.app.sendTask('t.add', [1, 1], {}, { queue: s.work.name });
    expect(parsed(await s.get('/dashboard/dlq'))).toEqual({ queues: [{ name: s.dlq.name, messages: 3, from: s.work.name }] });
    const listed = parsed(await s.get(`/dashboard/dlq/${s.dlq.name}`));
    expect(listed).toMatchObject({ queue: s.dlq.name, messages: 3 });
    expect((listed['letters'] as Array<{ id: string; task: string; queue: string }>).map((l) => [l.id, l.task, l.queue])).toEqual(
      s.ids.map((id) => [id, 't.add', s.work.name]),
    );
    const two = parsed(await s.get(`/dashboard/dlq/${s.dlq.name}?limit=2`));
    expect((two['letters'] as Array<{ id: string }>).map((l) => l.id)).toEqual(s.ids.slice(0, 2));
    expect(await s.app.connection.queueSize(s.dlq)).toBe(3);
    expect(statusAndError(await s.get('/dashboard/dlq/no-such-queue'))).toEqual([404, 'Queue no-such-queue does not exist']);
  });

  it('an empty dead-letter queue is not listed', async () => {
    const s = await setup(0);
    expect(parsed(await s.get('/dashboard/dlq'))).toEqual({ queues: [] });
  });

  it('replays by id (repeated or comma-separated) or by limit, home or elsewhere; an id not there fails the request', async () => {
    const s = await setup(5);
    const [a, b, c, d, e] = s.ids as [string, string, string, string, string];
    const one = parsed(await s.post(`/dashboard/dlq/${s.dlq.name}/replay?id=${a}`));
    expect(one).toEqual({ message: `Replayed 1 of 1 message from ${s.dlq.name}.`, replayed: [{ id: a, task: 't.add', to: s.work.name }] });
    expect(await s.app.connection.queueSize(s.work)).toBe(1);
    const elsewhere = `${s.work.name}-elsewhere`;
    await s.app.connection.declare(new Queue(elsewhere));
    const moved = parsed(await s.post(`/dashboard/dlq/${s.dlq.name}/replay?id=${b},${c}&to=${elsewhere}`));
    expect(moved['message']).toBe(`Replayed 2 of 2 messages from ${s.dlq.name}.`);
    expect(moved['replayed']).toEqual([
      { id: b, task: 't.add', to: elsewhere },
      { id: c, task: 't.add', to: elsewhere },
    ]);
    expect(await s.app.connection.queueSize(elsewhere)).toBe(2);
    const nowhere = `${s.work.name}-nowhere`;
    const stays = await s.post(`/dashboard/dlq/${s.dlq.name}/replay?id=${d},${e}&to=${nowhere}`);
    expect(stays.status).toBe(409);
    expect(parsed(stays)['error']).toMatch(new RegExp(`^Replayed 0 of 2 messages from ${s.dlq.name}\\. ${d} stays: [^.]+\\. ${e} stays: [^.]+\\.$`));
    const missing = await s.post(`/dashboard/dlq/${s.dlq.name}/replay?id=${d},&id=gone&id=lost`);
    expect(statusAndError(missing)).toEqual([409, `Replayed 1 of 1 message from ${s.dlq.name}. Not in the queue: gone, lost.`]);
    expect(await s.app.connection.queueSize(s.dlq)).toBe(1);
    expect(statusAndError(await s.post(`/dashboard/dlq/${s.dlq.name}/replay?limit=0`))).toEqual([400, 'limit must be at least 1']);
    expect(statusAndError(await s.post('/dashboard/dlq/no-such-queue/replay?id=x'))).toEqual([404, 'Queue no-such-queue does not exist']);
  });

  it('replays the first messages by limit', async () => {
    const s = await setup(3);
    const first = parsed(await s.post(`/dashboard/dlq/${s.dlq.name}/replay?limit=2`));
    expect((first['replayed'] as Array<{ id: string }>).map((r) => r.id)).toEqual(s.ids.slice(0, 2));
    const last = parsed(await s.post(`/dashboard/dlq/${s.dlq.name}/replay?limit=1`));
    expect((last['replayed'] as Array<{ id: string }>).map((r) => r.id)).toEqual(s.ids.slice(2));
    expect(await s.app.connection.queueSize(s.dlq)).toBe(0);
  });

  it('purges by id, or every message only when asked in so many words', async () => {
    const s = await setup(4);
    const [a, b] = s.ids as [string, string];
    expect(statusAndError(await s.post(`/dashboard/dlq/${s.dlq.name}/purge`))).toEqual([400, 'give id, or all=true to purge every message']);
    expect(statusAndError(await s.post(`/dashboard/dlq/${s.dlq.name}/purge?limit=2`))).toEqual([400, 'give id, or all=true to purge every message']);
    expect(parsed(await s.post(`/dashboard/dlq/${s.dlq.name}/purge?id=${a}`))).toEqual({ message: `Purged 1 message from ${s.dlq.name}.`, purged: [a] });
    const missing = await s.post(`/dashboard/dlq/${s.dlq.name}/purge?id=${b},gone`);
    expect(statusAndError(missing)).toEqual([409, `Purged 1 message from ${s.dlq.name}. Not in the queue: gone.`]);
    expect(await s.app.connection.queueSize(s.dlq)).toBe(2);
    expect(parsed(await s.post(`/dashboard/dlq/${s.dlq.name}/purge?all=true`))).toEqual({ message: `Purged 2 messages from ${s.dlq.name}.` });
    expect(await s.app.connection.queueSize(s.dlq)).toBe(0);
    expect(await s.app.connection.queueSize(s.work)).toBe(0);
  });

  it('read-only mode refuses replay and purge; each route matches its whole path', async () => {
    const s = await setup(1, true);
    for (const verb of ['replay', 'purge'])
      expect(statusAndError(await s.post(`/dashboard/dlq/${s.dlq.name}/${verb}?id=${s.ids[0]}`)), verb).toEqual([403, 'Read only mode is enabled']);
    const notFound = [404, 'Not found'];
    for (const path of ['/dashboard/dlq', `/dashboard/dlq/${s.dlq.name}`]) expect(statusAndError(await s.get(`/v1${path}`)), path).toEqual(notFound);
    for (const verb of ['replay', 'purge']) {
      expect(statusAndError(await s.post(`/v1/dashboard/dlq/${s.dlq.name}/${verb}`)), verb).toEqual(notFound);
      expect(statusAndError(await s.post(`/dashboard/dlq/${s.dlq.name}/${verb}/more`)), verb).toEqual(notFound);
    }
    expect(statusAndError(await s.get('/dashboard/dlq/more'))).toEqual([404, 'Queue more does not exist']);
    expect(statusAndError(await s.get('/dashboard/dlqs'))).toEqual(notFound);
    expect(await s.app.connection.queueSize(s.dlq)).toBe(1);
  });
});
