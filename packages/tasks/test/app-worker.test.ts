/**
 * App + worker basics on memory:// and redis://: a typed call runs and its result comes back,
 * the message on the wire is Celery protocol v2, failures, retries, expires, countdown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import '@nori/amqp';
import '@nori/compression';
import '@nori/msgpack';
import '@nori/redis';
import { App, currentTask, MaxRetriesExceededError, OutsideTaskError, type TaskContext } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

const BROKERS = [
  { name: 'memory', broker: 'memory://', backend: 'memory://' },
  { name: 'redis', broker: redisUrl(), backend: redisUrl(1) },
  { name: 'amqp', broker: AMQP_URL, backend: redisUrl(1) },
];

afterEach(cleanup);

const setup = (b: (typeof BROKERS)[number]) => testbed(b.broker, { backend: b.backend, connection: { transportOptions: { leaseMs: 2000 } } });

for (const b of BROKERS) {
  describe(`tasks on ${b.name}`, () => {
    it('runs a typed task and reads its result', async () => {
      const { app, worker } = setup(b);
      const add = app.task('t.add', (x: number, y: number) => x + y);
      await worker();
      const r = await add.delay(2, 3);
      const value: number = await r.get({ timeout: 10_000 });
      expect(value).toBe(5);
    });

    it('sends and runs msgpack + zlib tasks when configured (and accepted)', async () => {
      const { app, queue, worker } = testbed(b.broker, { backend: b.backend, serializer: 'msgpack', compression: 'zlib', accept: ['msgpack'] });
      const join = app.task('t.join', (parts: string[], sep: string) => parts.join(sep));
      await worker();
      expect(await (await join.delay(['a', 'b'], '+')).get({ timeout: 10_000 })).toBe('a+b');
      expect(queue).toMatch(/^tasks-test-/);
    });

    it('gives the handler its context through currentTask()', async () => {
      const { app, queue, worker } = setup(b);
      let seen: TaskContext | undefined;
      const t = app.task(
        't.ctx',
        async () => {
          await new Promise((r) => setTimeout(r, 5));
          seen = currentTask();
          return seen.id;
        },
        { params: ['**kwargs'] },
      );
      await worker();
      const r = await t.applyAsync([], { k: 1 });
      expect(await r.get({ timeout: 10_000 })).toBe(r.id);
      expect(seen?.kwargs).toEqual({ k: 1 });
      expect(seen?.retries).toBe(0);
      expect(seen?.deliveryInfo.queue).toBe(queue);
      expect(seen?.signal.aborted).toBe(false);
    });

    it('plain and async handlers running side by side each read their own context, and none leaks out', async () => {
      const { app, worker } = setup(b);
      const idOf = (): string => currentTask().id;
      const plain = app.task('t.plain', () => idOf());
      const later = app.task('t.later', async () => {
        const before = idOf();
        await new Promise((r) => setTimeout(r, 20));
        return [before, idOf()];
      });
      await worker({ concurrency: 20 });
      const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? plain.delay() : later.delay())));
      const values = await Promise.all(sent.map((r) => r.get({ timeout: 20_000 })));
      sent.forEach((r, i) => expect(values[i]).toEqual(i % 2 ? r.id : [r.id, r.id]));
      expect(() => currentTask()).toThrow(OutsideTaskError);
    });

    it('stores a failure and get() rejects with it', async () => {
      const { app, worker } = setup(b);
      const t = app.task('t.fail', () => {
        throw new RangeError('too big');
      });
      await worker();
      const r = await t.delay();
      await expect(r.get({ timeout: 10_000 })).rejects.toMatchObject({ message: expect.stringContaining('too big') });
    });

    it('retries with the same id and retries + 1, then fails with MaxRetriesExceeded', async () => {
      const { app, worker } = setup(b);
      const seen: Array<[string, number]> = [];
      const t = app.task(
        't.retry',
        () => {
          const ctx = currentTask();
          seen.push([ctx.id, ctx.retries]);
          ctx.retry({ countdown: 10 });
        },
        { maxRetries: 2 },
      );
      await worker();
      const r = await t.delay();
      await expect(r.get({ timeout: 10_000 })).rejects.toMatchObject({ message: expect.stringContaining('max retries') });
      expect(seen).toEqual([
        [r.id, 0],
        [r.id, 1],
        [r.id, 2],
      ]);
      expect(MaxRetriesExceededError.name).toBe('MaxRetriesExceededError');
    });

    it('revokes an expired task without running it', async () => {
      const { app, worker } = setup(b);
      let ran = 0;
      const t = app.task('t.expired', () => ++ran);
      const r = await t.applyAsync([], {}, { expires: new Date(Date.now() - 1000) });
      await worker();
      await expect(r.get({ timeout: 10_000 })).rejects.toMatchObject({ name: 'TaskRevokedError' });
      expect(ran).toBe(0);
    });

    it('sends a countdown task to the queue as Celery does, or to the delayed set with publishDelayed', async () => {
      const { app, queue } = setup(b);
      const conn = new Connection(b.broker);
      await app.sendTask('t.none', [], {}, { countdown: 60_000 });
      expect(await conn.queueSize(queue)).toBe(1);
      await conn.purge(queue);
      const delayed = new App({ broker: b.broker, defaultQueue: queue, publishDelayed: true });
      await delayed.sendTask('t.none', [], {}, { countdown: 60_000 });
      // RabbitMQ has no delayed set: the task goes to the queue and a worker parks it in the ladder.
      expect(await conn.queueSize(queue)).toBe(b.name === 'amqp' ? 1 : 0);
      await delayed.close();
      await conn.close();
    });

    it('runs a countdown task no earlier than its ETA', async () => {
      const { app, worker } = setup(b);
      let ranAt = 0;
      const t = app.task('t.later', () => (ranAt = Date.now()));
      await worker();
      const sent = Date.now();
      const r = await t.applyAsync([], {}, { countdown: 1500 });
      await r.get({ timeout: 10_000 });
      expect(ranAt - sent).toBeGreaterThanOrEqual(1450);
    });
  });
}
