/**
 * Canvas across nori and Python Celery 5.2 on Redis and RabbitMQ brokers (Redis result backend):
 * a chain nori → Python → nori, each worker sending the next step from the embedded chain; and a
 * chord of 50 whose header is half Python tasks and half nori tasks, counted in Celery's Redis
 * chord keys by both, with a nori callback.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chain, chord, signature } from '@nori/tasks';
import { NETWORK_BROKERS, waitFor } from './brokers.js';
import { startCeleryWorker } from './python/celery.js';
import { cleanup, testbed } from './testbed.js';
import { redisUrl } from '@nori/testing/brokers';

const BACKEND = redisUrl(1);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

for (const b of NETWORK_BROKERS) {
  describe(`canvas: nori ↔ Python Celery 5.2 on ${b.name}`, () => {
    it('a chain nori → Python → nori, and a chord of 50 (25 Python, 25 nori) with a nori callback', async () => {
      const { app, queue, worker } = testbed(b.broker, { backend: BACKEND });
      const pyQueue = `${queue}-py`;
      const python = await startCeleryWorker({ broker: b.broker, backend: BACKEND, queue: pyQueue }, { node: `${pyQueue}@python` });
      cleanups.push(async () => {
        await python.stop();
        await app.connection.deleteQueue(pyQueue).catch(() => undefined);
        // Celery binds the queue to an exchange of its own name.
        await app.connection.deleteExchange(pyQueue).catch(() => undefined);
      });
      const add = app.task('cvi.add', (x: number, y: number) => x + y);
      const sum = app.task('cvi.sum', (values: number[]) => values.reduce((a, b) => a + b, 0));
      await worker({ concurrency: 8 });
      const inPython = (task: string, args: unknown[]): ReturnType<typeof signature> => signature(task, args, {}, { queue: pyQueue });

      // (2 + 3) in nori → × 10 in Python → + 1 in nori.
      const c = await chain(add.s([2, 3]), inPython('interop.mul', [10]), add.s([1], {}, { queue })).applyAsync<number>(app);
      expect(await c.get({ timeout: 30_000 })).toBe(51);

      const header = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? inPython('interop.add', [i, 1]) : add.s([i, 1], {}, { queue })));
      const r = await chord(header, sum.s([], {}, { queue })).applyAsync<number>(app);
      expect(await r.get({ timeout: 60_000 })).toBe(Array.from({ length: 50 }, (_, i) => i + 1).reduce((a, b) => a + b, 0));
      // Both sides counted: the Python worker ran its half (it logs a task after counting it in the chord).
      await waitFor('the Python log of 25 tasks', () => python.output().match(/interop\.add\[[0-9a-f-]+\] succeeded/g)?.length === 25, 10_000);
    }, 120_000);
  });
}
