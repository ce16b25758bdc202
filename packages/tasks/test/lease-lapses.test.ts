/**
 * #22.1, the worker's half: a task message whose lease lapsed more than the worker's `maxLapses`
 * times is not run again: its FAILURE (`WorkerLostError`, saying why) is stored, so `get()`
 * rejects instead of waiting for ever, and the message is dead-lettered. The worker here is stuck
 * each time it runs the task: the handler blocks the event loop past the transport's
 * `maxBlockedMs` (so the lease keeper gives the lease up and it lapses) and then never ends. Before,
 * the consumer's own bound (5) rejected the message after six starts and stored nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '@nori/mongodb';
import { Connection, Exchange, Queue, QueueEmptyError, silentLogger } from '@nori/core';
import { App, TaskError } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';
import { REDIS } from './brokers.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';

const LEASE_MS = 200;
const MAX_LAPSES = 2;

const SETUPS = [
  { name: 'redis', broker: () => REDIS, backend: () => redisUrl(1) },
  { name: 'mongodb', broker: () => mongoUrl, backend: () => mongoUrl },
];

beforeAll(startServer);
afterAll(stopServer);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The ids of the task messages in a queue (taken out). */
async function drain(conn: Connection, queue: Queue): Promise<string[]> {
  const sq = conn.simpleQueue(queue);
  const seen: string[] = [];
  for (;;) {
    try {
      const m = await sq.get({ timeout: 300 });
      seen.push(String(m.headers['id']));
      await m.ack();
    } catch (error) {
      if (error instanceof QueueEmptyError) return seen;
      throw error;
    }
  }
}

for (const s of SETUPS) {
  describe(`a task whose lease keeps lapsing (${s.name})`, () => {
    it(`starts maxLapses + 1 times, then its FAILURE (WorkerLostError) is stored and its message dead-lettered`, async () => {
      const name = `lapses-${randomUUID().slice(0, 8)}`;
      const dlx = new Exchange(`${name}-dlx`, { type: 'direct' });
      const dead = new Queue(`${name}-dead`, { exchange: dlx, routingKey: 'dead' });
      const work = new Queue(name, {
        exchange: new Exchange(name, { type: 'direct' }),
        routingKey: name,
        deadLetterExchange: dlx.name,
        deadLetterRoutingKey: 'dead',
      });
      let keeper!: () => void;
      const keeperReady = new Promise<void>((resolve) => (keeper = resolve));
      const logger = { ...silentLogger, debug: (_: object | string, msg?: string) => void (msg?.includes('lease keeper connected') && keeper()) };
      const app = new App({
        broker: s.broker(),
        backend: s.backend(),
        defaultQueue: name,
        queues: [work],
        ...CELERY_NAMES,
        connection: { transportOptions: { leaseMs: LEASE_MS, maxBlockedMs: LEASE_MS / 2 }, logger },
      });
      const conn = new Connection(s.broker());
      const worker = app.worker({ concurrency: MAX_LAPSES + 2, maxLapses: MAX_LAPSES, shutdownTimeout: 100 });
      cleanups.push(async () => {
        await worker.stop();
        for (const q of [work, dead]) await conn.deleteQueue(q).catch(() => undefined);
        for (const e of [name, dlx.name]) await conn.deleteExchange(e).catch(() => undefined);
        await deleteCeleryNames(conn);
        await conn.close();
        await app.close();
      });
      const starts: number[] = [];
      app.task('lapses.stuck', () => {
        starts.push(Date.now());
        // Stuck: the loop blocked past maxBlockedMs (the keeper gives the lease up), then no end.
        const until = Date.now() + 4 * LEASE_MS;
        while (Date.now() < until) {
          // CPU-bound
        }
        return new Promise<never>(() => undefined);
      });
      const quick = app.task('lapses.quick', () => 'ok');
      await conn.declare(dead);
      await worker.start();
      expect(await (await quick.delay()).get({ timeout: 10_000 })).toBe('ok');
      await keeperReady;

      const result = await app.sendTask('lapses.stuck', []);
      const error = await result.get({ timeout: 15_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TaskError);
      expect(error).toMatchObject({ excType: 'WorkerLostError', excModule: 'billiard.exceptions' });
      const [why] = (error as TaskError).excMessage as [string];
      expect(why).toContain(`lapsed ${MAX_LAPSES + 1} times`);
      expect(why).toContain(`maxLapses (${MAX_LAPSES})`);
      expect(result.state).toBe('FAILURE');
      expect(starts).toHaveLength(MAX_LAPSES + 1);
      expect(await drain(conn, dead)).toEqual([result.id]);
      expect(await conn.queueSize(work)).toBe(0);
    }, 30_000);
  });
}
