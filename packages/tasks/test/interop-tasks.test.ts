/**
 * Tasks between nori and a real Python Celery 5.2 (`celery worker --pool solo`), on Redis (Redis
 * result backend) and on RabbitMQ (rpc:// results), both directions: nori sends → the Python
 * worker runs → nori reads the result; Python sends → a nori worker runs → Python's
 * `AsyncResult.get()` reads it. Cases: args and kwargs, a typed failure, retries, countdown,
 * expires, priority.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import '@nori/amqp';
import '@nori/redis';
import { App, currentTask, TaskError, TaskRevokedError, type Worker } from '@nori/tasks';
import { TestNames } from '@nori/testing';
import { AMQP_TRANSPORT_OPTIONS, AMQP_URL, redisUrl } from '@nori/testing/brokers';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';
import { pythonCall, pythonSend, startCeleryWorker, type CeleryEnv, type CeleryWorker } from './python/celery.js';

const BROKERS = [
  { name: 'Redis (redis result backend)', broker: redisUrl(), backend: redisUrl(1), rpc: false },
  { name: 'RabbitMQ (rpc:// results)', broker: AMQP_URL, backend: 'rpc://', rpc: true },
];

interface When {
  label: string;
  ran: number;
  eta: string | null;
}

for (const b of BROKERS) {
  describe(`Celery 5.2 interop on ${b.name}`, () => {
    // Queues, and the exchanges of the same name Celery binds them to.
    const names = new TestNames('interop');
    const pyQueue = names.name('py');
    const noriQueue = names.name('nori');
    // Short-lived delay levels; the file's own mailbox and event exchange (deleted at the end).
    const shared = { connection: { transportOptions: AMQP_TRANSPORT_OPTIONS }, ...CELERY_NAMES };
    const pyEnv: CeleryEnv = { broker: b.broker, backend: b.backend, queue: pyQueue };
    const noriEnv: CeleryEnv = { broker: b.broker, backend: b.backend, queue: noriQueue };
    const workers: CeleryWorker[] = [];
    let client: App;
    let server: App;
    let noriWorker: Worker;

    beforeAll(async () => {
      workers.push(await startCeleryWorker(pyEnv));
      client = new App({ broker: b.broker, backend: b.backend, defaultQueue: pyQueue, ...shared });
      server = new App({ broker: b.broker, backend: b.backend, defaultQueue: noriQueue, ...shared });
      server.task('interop.add', (x: number, y: number) => x + y, { params: ['x', 'y'] });
      server.task('interop.echo', (...args: unknown[]) => ({ args, kwargs: currentTask().kwargs }), { params: ['**kwargs'] });
      server.task('interop.fail', (message: string) => {
        throw new TypeError(message);
      });
      server.task('interop.retrying', (succeedAfter: number) => {
        const ctx = currentTask();
        if (ctx.retries < succeedAfter) ctx.retry({ countdown: 200 });
        return { retries: ctx.retries };
      });
      server.task('interop.when', (label: string) => ({ label, ran: Date.now() / 1000, eta: currentTask().eta?.toISOString() ?? null }));
      noriWorker = server.worker({ concurrency: 4 });
      await noriWorker.start();
    });

    afterAll(async () => {
      await noriWorker?.stop();
      for (const w of workers) await w.stop();
      const conn = new Connection(b.broker);
      await names.deleteAll(conn);
      await deleteCeleryNames(conn);
      await conn.close();
      await server?.close();
      await client?.close();
    });

    describe('nori sends, a Python worker runs, nori reads', () => {
      it('args and kwargs arrive, values come back typed', async () => {
        const add = await client.sendTask('interop.add', [2, 3]);
        const echo = await client.sendTask('interop.echo', [1, 'two', null], { three: [3], nested: { four: 4.5 } });
        expect(await add.get({ timeout: 20_000 })).toBe(5);
        expect(await echo.get({ timeout: 20_000 })).toEqual({ args: [1, 'two', null], kwargs: { three: [3], nested: { four: 4.5 } } });
        expect(await add.successful()).toBe(true);
      });

      it('a Python exception arrives with its type, module and message', async () => {
        const r = await client.sendTask('interop.fail', ['boom from nori']);
        const error = await r.get({ timeout: 20_000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TaskError);
        expect(error).toMatchObject({ excType: 'InteropError', excModule: 'interop_app', excMessage: ['boom from nori'], taskId: r.id });
        expect((error as TaskError).traceback).toContain('InteropError');
        expect(await r.failed()).toBe(true);
      });

      it('a task that retries twice ends in SUCCESS with retries = 2', async () => {
        const r = await client.sendTask('interop.retrying', [2]);
        expect(await r.get({ timeout: 20_000 })).toEqual({ retries: 2 });
      });

      it('countdown: Python runs the task no earlier than asked, and sees the eta', async () => {
        const sent = Date.now();
        const r = await client.sendTask('interop.when', ['countdown'], {}, { countdown: 2000 });
        const when = (await r.get({ timeout: 20_000 })) as When;
        expect(when.ran * 1000 - sent).toBeGreaterThanOrEqual(1900);
        expect(Math.abs(new Date(when.eta as string).getTime() - (sent + 2000))).toBeLessThan(1000);
      });

      it('expires: an expired task is not run; its result is REVOKED', async () => {
        const r = await client.sendTask('interop.add', [1, 1], {}, { expires: new Date(Date.now() - 1000) });
        const error = await r.get({ timeout: 20_000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TaskRevokedError);
        expect(r.state).toBe('REVOKED');
      });

      it('priority: waiting tasks run most urgent first', async () => {
        const pq = names.name('prio');
        const prioClient = new App({ broker: b.broker, backend: b.backend, defaultQueue: pq, queueMaxPriority: 10, ...shared });
        try {
          const sent = [];
          for (const [label, priority] of [
            ['low', 1],
            ['urgent', 9],
            ['middle', 5],
          ] as const) {
            sent.push(await prioClient.sendTask('interop.when', [label], {}, { priority }));
          }
          workers.push(await startCeleryWorker({ ...pyEnv, queue: pq, maxPriority: 10 }));
          const ran = (await Promise.all(sent.map((r) => r.get({ timeout: 30_000 })))) as When[];
          expect([...ran].sort((x, y) => x.ran - y.ran).map((w) => w.label)).toEqual(['urgent', 'middle', 'low']);
        } finally {
          await prioClient.close();
        }
      }, 60_000);
    });

    describe('Python sends, a nori worker runs, Python reads', () => {
      it('args and kwargs, values, a failure', async () => {
        const [add, echo, fail] = await pythonCall(noriEnv, [
          { name: 'interop.add', args: [2, 3] },
          { name: 'interop.echo', args: [1, 'two'], kwargs: { three: [3], four: { n: 4 } } },
          { name: 'interop.fail', args: ['boom from python'] },
        ]);
        expect(add).toMatchObject({ state: 'SUCCESS', value: 5 });
        expect(echo).toMatchObject({ state: 'SUCCESS', value: { args: [1, 'two'], kwargs: { three: [3], four: { n: 4 } } } });
        expect(fail).toMatchObject({ state: 'FAILURE', exc_type: 'TypeError', exc_module: 'builtins', exc_args: ['boom from python'] });
        expect(fail?.traceback).toContain('TypeError: boom from python');
      }, 60_000);

      it('keyword arguments bind to the declared params; one nothing takes fails with TypeError', async () => {
        const [byName, mixed, unexpected] = await pythonCall(noriEnv, [
          { name: 'interop.add', kwargs: { x: 1, y: 2 } },
          { name: 'interop.add', args: [10], kwargs: { y: 5 } },
          { name: 'interop.add', args: [1], kwargs: { y: 2, z: 3 } },
        ]);
        expect(byName).toMatchObject({ state: 'SUCCESS', value: 3 });
        expect(mixed).toMatchObject({ state: 'SUCCESS', value: 15 });
        expect(unexpected).toMatchObject({
          state: 'FAILURE',
          exc_type: 'TypeError',
          exc_module: 'builtins',
          exc_args: ["interop.add() got an unexpected keyword argument 'z'"],
        });
      }, 60_000);

      // On rpc:// this needs the retry to keep the request's reply_to (it went to the worker's own queue before).
      it('a task that retries twice ends in SUCCESS with retries = 2', async () => {
        const [retrying] = await pythonCall(noriEnv, [{ name: 'interop.retrying', args: [2] }]);
        expect(retrying).toMatchObject({ state: 'SUCCESS', value: { retries: 2 } });
      }, 60_000);

      it('countdown and expires', { timeout: 60_000 }, async () => {
        const sent = Date.now();
        const [when, expired] = await pythonCall(noriEnv, [
          { name: 'interop.when', args: ['countdown'], options: { countdown: 2 } },
          { name: 'interop.add', args: [1, 1], options: { expires: 0.001 } },
        ]);
        expect(when?.state).toBe('SUCCESS');
        expect((when?.value as When).ran * 1000 - sent).toBeGreaterThanOrEqual(1900);
        expect((when?.value as When).eta).not.toBeNull();
        expect(expired).toMatchObject({ state: 'REVOKED', exc_type: 'TaskRevokedError' });
      });

      it('priority: tasks Python queued run most urgent first', { timeout: 60_000 }, async () => {
        const pq = names.name('prio-py');
        // kombu's meaning of a priority depends on the transport: on Redis 0 is the most urgent,
        // on RabbitMQ the highest number. nori maps both to one meaning, so the order is the same.
        const redis = b.broker.startsWith('redis');
        const env = { ...noriEnv, queue: pq, maxPriority: 10 };
        await pythonSend(env, [
          { name: 'interop.when', args: ['low'], options: { priority: redis ? 9 : 1 } },
          { name: 'interop.when', args: ['urgent'], options: { priority: redis ? 0 : 9 } },
          { name: 'interop.when', args: ['middle'], options: { priority: redis ? 4 : 5 } },
        ]);
        // Results of Python-sent tasks go to Python's reply queue on rpc://: record the order here.
        const order: string[] = [];
        let allRan!: () => void;
        const ran = new Promise<void>((resolve) => (allRan = resolve));
        const prio = new App({ broker: b.broker, backend: b.backend, defaultQueue: pq, queueMaxPriority: 10, ...shared });
        // Python's rpc:// reply queue, which no one consumes here: deleted after the test.
        const replyQueues = new Set<string>();
        prio.task('interop.when', (label: string) => {
          const { replyTo } = currentTask();
          if (b.rpc && replyTo !== undefined) replyQueues.add(replyTo);
          if (order.push(label) === 3) allRan();
          return label;
        });
        const w = prio.worker({ concurrency: 1, prefetchMultiplier: 1 });
        await w.start();
        try {
          await ran;
          expect(order).toEqual(['urgent', 'middle', 'low']);
        } finally {
          await w.stop();
          for (const q of replyQueues) await prio.connection.deleteQueue(q).catch(() => undefined);
          await prio.close();
        }
      });
    });
  });
}
