/**
 * Every way a task message can end without its task running, and each settlement: the worker is
 * the only one that settles its messages (core's consumer runs in `settle: 'manual'`), so each
 * path must settle deliberately. The settlement is read from the broker: acked messages are gone,
 * rejected ones are in the queue's dead-letter queue, released ones are back in the queue.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection, Exchange, Queue, QueueEmptyError } from '@nori/core';
import '@nori/msgpack';
import { App, type Worker } from '@nori/tasks';
import { REDIS, waitFor } from './brokers.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Setup {
  app: App;
  conn: Connection;
  work: Queue;
  dead: Queue;
  worker: Worker;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An App whose default queue dead-letters to `<queue>-dead`, and a worker on it (not started). */
function setup(broker: string, worker: { concurrency: number; etaHoldMax: number }): Setup {
  const name = `admission-${randomUUID().slice(0, 8)}`;
  const dlx = new Exchange(`${name}-dlx`, { type: 'direct' });
  const dead = new Queue(`${name}-dead`, { exchange: dlx, routingKey: 'dead' });
  const work = new Queue(name, {
    exchange: new Exchange(name, { type: 'direct' }),
    routingKey: name,
    deadLetterExchange: dlx.name,
    deadLetterRoutingKey: 'dead',
  });
  const app = new App({ broker, backend: 'memory://', defaultQueue: name, queues: [work], ...CELERY_NAMES });
  const conn = new Connection(broker);
  const w = app.worker({ ...worker, prefetchMultiplier: 8 });
  cleanups.push(async () => {
    await w.stop();
    for (const q of [work, dead]) await conn.deleteQueue(q).catch(() => undefined);
    for (const e of [name, dlx.name]) await conn.deleteExchange(e).catch(() => undefined);
    await deleteCeleryNames(conn);
    await conn.close();
    await app.close();
  });
  return { app, conn, work, dead, worker: w };
}

/** Takes every message out of a queue: its task id (header `id`), or its body when it is not a task. */
async function drain(conn: Connection, queue: Queue): Promise<string[]> {
  await conn.declare(queue);
  const sq = conn.simpleQueue(queue, { accept: ['json', 'msgpack'] });
  const seen: string[] = [];
  for (;;) {
    try {
      const m = await sq.get({ timeout: 300 });
      seen.push(typeof m.headers['id'] === 'string' ? m.headers['id'] : JSON.stringify(m.body));
      await m.ack();
    } catch (error) {
      if (error instanceof QueueEmptyError) return seen.sort();
      throw error;
    }
  }
}

for (const broker of ['memory://', REDIS]) {
  describe(`admission settles every message deliberately (${broker.split(':')[0]})`, () => {
    it('refused, not a task, unknown, expired, revoked, parked and run: each settled as Celery would', async () => {
      const { app, conn, work, dead, worker } = setup(broker, { concurrency: 4, etaHoldMax: 200 });
      const ran: string[] = [];
      const add = app.task('adm.add', (x: number, y: number) => {
        ran.push(String(x));
        return x + y;
      });
      const errors: Error[] = [];
      const rejected: Array<string | undefined> = [];
      const parked: string[] = [];
      worker.on('error', (e) => errors.push(e));
      worker.on('task-rejected', (r) => rejected.push(r?.id));
      worker.on('task-parked', (r) => parked.push(r.id));
      await conn.declare(dead);
      await worker.start();
      const producer = conn.producer();
      await producer.publish('not accepted', { routingKey: work.name, serializer: 'msgpack' });
      await producer.publish({ not: 'a task' }, { routingKey: work.name });
      const unknown = await app.sendTask('adm.nobody', [1]);
      const expired = await add.applyAsync([2, 0], {}, { expires: new Date(0) });
      const revokedId = randomUUID();
      worker.revoked.add(revokedId);
      const revoked = await add.applyAsync([3, 0], {}, { taskId: revokedId });
      const later = await add.applyAsync([4, 0], {}, { countdown: 1500 });
      const now = await add.delay(5, 0);
      expect(await now.get({ timeout: 5000 })).toBe(5);
      expect(await later.get({ timeout: 10_000 })).toBe(4);
      await expect(unknown.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'NotRegistered' });
      await expect(expired.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TaskRevokedError', excMessage: ['expired'] });
      await expect(revoked.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'TaskRevokedError', excMessage: ['revoked'] });
      await worker.stop();
      // Run: the two that were to run, once each (the parked one after its ETA).
      expect(ran.sort()).toEqual(['4', '5']);
      expect(parked).toEqual([later.id]);
      // Rejected (dead-lettered): the body that could not be decoded, the non-task, the unknown task.
      expect(await drain(conn, dead)).toEqual([JSON.stringify({ not: 'a task' }), JSON.stringify('not accepted'), unknown.id].sort());
      expect(rejected).toEqual([undefined, unknown.id]);
      expect(errors.map((e) => e.name)).toEqual(['ContentDisallowedError']);
      // Acked: nothing is left in the queue (expired, revoked, parked original and its copy, run).
      expect(await drain(conn, work)).toEqual([]);
    });

    it('a warm stop releases what waits for a slot, a rate-limit token or a near ETA; revoked while waiting is acked', async () => {
      const { app, conn, work, dead, worker } = setup(broker, { concurrency: 1, etaHoldMax: 5000 });
      const block = app.task('adm.block', (ms: number) => sleep(ms).then(() => ms));
      const plain = app.task('adm.plain', () => 'ran');
      const limited = app.task('adm.limited', () => 'ran', { rateLimit: '1/m' });
      const started: string[] = [];
      worker.on('task-started', (r) => started.push(r.name));
      await conn.declare(dead);
      await worker.start();
      const first = await block.delay(600);
      const revokedId = randomUUID();
      const revoked = await plain.applyAsync([], {}, { taskId: revokedId });
      const second = await block.delay(1500);
      const waiting = [await plain.delay(), await limited.delay(), await limited.delay(), await plain.applyAsync([], {}, { countdown: 3000 })];
      worker.revoked.add(revokedId);
      await waitFor('the second blocker to start', () => started.length === 2, 10_000);
      const stopping = worker.stop();
      // Released at once, while the second blocker still runs (not given back later by the connection's close).
      await waitFor('the waiting messages to be back', async () => (await conn.queueSize(work)) === waiting.length, 1000);
      expect(await second.ready()).toBe(false);
      await stopping;
      expect(started).toEqual(['adm.block', 'adm.block']);
      expect(await first.get({ timeout: 1000 })).toBe(600);
      expect(await second.get({ timeout: 1000 })).toBe(1500);
      await expect(revoked.get({ timeout: 1000 })).rejects.toMatchObject({ excType: 'TaskRevokedError' });
      // Released: every waiting message is back in the queue, none dead-lettered, none lost.
      expect(await drain(conn, work)).toEqual(waiting.map((r) => r.id).sort());
      expect(await drain(conn, dead)).toEqual([]);
    });
  });
}
