/**
 * Canvas between nori processes: chains (results passed on, immutable steps), groups, and chords
 * of 50 on the Redis result backend (Celery's counter) and on others (celery.chord_unlock: memory,
 * rpc://, MongoDB), on memory, Redis and RabbitMQ brokers; a failed header task fails the body
 * with ChordError.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chain, chord, ChordError, currentTask, group } from '@nori/tasks';
import { AMQP, REDIS } from './brokers.js';
import { cleanup, testbed } from './testbed.js';
import { redisUrl } from '@nori/testing/brokers';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';

/** The MongoDB backend's database for this file, on MONGODB_URI or the embedded CongoDB. */
const MONGO_DATABASE = `nori_canvas_${randomUUID().slice(0, 8)}`;
const mongoBackend = (): string => {
  const url = new URL(mongoUrl);
  url.pathname = `/${MONGO_DATABASE}`;
  return url.toString();
};

beforeAll(startServer);
afterEach(cleanup);
afterAll(async () => {
  const client = new MongoClient(mongoUrl);
  await client.db(MONGO_DATABASE).dropDatabase();
  await client.close();
  await stopServer();
});

const SETUPS = [
  { name: 'memory broker, memory backend (chord_unlock)', broker: 'memory://', backend: 'memory://' },
  { name: 'Redis broker, Redis backend (counter)', broker: REDIS, backend: redisUrl(1) },
  { name: 'RabbitMQ broker, Redis backend (counter)', broker: AMQP, backend: redisUrl(1) },
  { name: 'RabbitMQ broker, rpc backend (completed by the caller)', broker: AMQP, backend: 'rpc://' },
  { name: 'memory broker, MongoDB backend (chord_unlock)', broker: 'memory://', backend: mongoBackend() },
];

for (const s of SETUPS) {
  describe(`canvas: ${s.name}`, () => {
    it('chain, group and a chord of 50 with a callback', async () => {
      const { app, worker } = testbed(s.broker, { backend: s.backend });
      const add = app.task('cv.add', (x: number, y: number) => x + y);
      const mul = app.task('cv.mul', (x: number, y: number) => x * y);
      const sum = app.task('cv.sum', (values: number[]) => values.reduce((a, b) => a + b, 0));
      const parents: Array<string | null> = [];
      const whoami = app.task('cv.who', (label: string) => {
        parents.push(currentTask().parentId);
        return label;
      });
      await worker({ concurrency: 8 });

      // (2 + 3) * 4 → who('fixed') ignores it (immutable) → + 1 would fail on a string, so last is add on a fresh pair.
      const c = await chain(add.s([2, 3]), mul.s([4]), whoami.si(['fixed'])).applyAsync(app);
      expect(await c.get({ timeout: 15_000 })).toBe('fixed');
      expect(parents).toHaveLength(1);
      const c2 = await chain(add.s([1, 1]), add.s([10]), mul.s([3])).applyAsync<number>(app);
      expect(await c2.get({ timeout: 15_000 })).toBe(36);

      const g = await group(...Array.from({ length: 10 }, (_, i) => mul.s([i, i]))).applyAsync<number>(app);
      expect(await g.get({ timeout: 15_000 })).toEqual(Array.from({ length: 10 }, (_, i) => i * i));

      const ch = await chord(
        Array.from({ length: 50 }, (_, i) => add.s([i, 1])),
        sum.s(),
      ).applyAsync<number>(app);
      expect(await ch.get({ timeout: 30_000 })).toBe(Array.from({ length: 50 }, (_, i) => i + 1).reduce((a, b) => a + b, 0));
    });

    it('a chord whose header task fails fails its body with ChordError, and the body never runs', async () => {
      const { app, worker } = testbed(s.broker, { backend: s.backend });
      let bodyRan = 0;
      const ok = app.task('cv.ok', (x: number) => x);
      const bad = app.task('cv.bad', () => {
        throw new RangeError('header broke');
      });
      const body = app.task('cv.body', () => ++bodyRan);
      await worker({ concurrency: 4 });
      const r = await chord([ok.s([1]), bad.s(), ok.s([3])], body.s()).applyAsync(app);
      const error = await r.get({ timeout: 30_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChordError);
      expect((error as ChordError).message).toContain('header broke');
      expect(bodyRan).toBe(0);
    });

    // A header part whose worker died after counting it, before its ack, runs again: it must not count twice.
    it.skipIf(!s.name.includes('(counter)'))('a header part that runs twice is counted once; the body gets every part, in order', async () => {
      const { app, worker } = testbed(s.broker, { backend: s.backend });
      let runs = 0;
      const part = app.task('cv.part', (i: number) => `${i}:${runs++}`);
      const collect = app.task('cv.collect', (parts: string[]) => parts);
      await worker({ concurrency: 1 });
      const groupId = randomUUID();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const body = { ...collect.s(), options: { task_id: randomUUID() }, chord_size: 3 };
      await app.prepareChord(groupId, ids, body);
      const send = (i: number) => part.applyAsync([i], {}, { taskId: ids[i], group: groupId, groupIndex: i, chord: body });
      const first = await send(0);
      await first.get({ timeout: 10_000 });
      await send(0);
      await expect.poll(() => runs, { timeout: 10_000 }).toBe(2);
      await send(1);
      await send(2);
      const parts = await app.result<string[]>(body.options.task_id).get({ timeout: 15_000 });
      expect(parts.map((p) => p.split(':')[0])).toEqual(['0', '1', '2']);
      expect(parts[0]).toBe('0:0');
      expect(runs).toBe(4);
    });
  });
}
