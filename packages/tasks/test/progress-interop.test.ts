/**
 * Progress states between nori and a real Python Celery 5.2, on Redis (Redis result backend) and
 * RabbitMQ (rpc:// results): a Python task's `self.update_state(state='PROGRESS', meta=...)` is
 * read by nori (`states()`, `info`), and a nori task's `currentTask().updateState('DOWNLOADING',
 * ...)` is read by Python's `AsyncResult(id).state` and `.info`. Each task waits on a gate file the
 * reader creates once it saw the state, so the state is read while the task runs.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import '@nori/amqp';
import '@nori/redis';
import { App, currentTask, type Worker } from '@nori/tasks';
import { TestNames } from '@nori/testing';
import { AMQP_TRANSPORT_OPTIONS, AMQP_URL, redisUrl } from '@nori/testing/brokers';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';
import { pythonProgress, startCeleryWorker, type CeleryEnv, type CeleryWorker } from './python/celery.js';

const BROKERS = [
  { name: 'Redis (redis result backend)', broker: redisUrl(), backend: redisUrl(1) },
  { name: 'RabbitMQ (rpc:// results)', broker: AMQP_URL, backend: 'rpc://' },
];

for (const b of BROKERS) {
  describe(`progress states with Celery 5.2 on ${b.name}`, () => {
    const names = new TestNames('progress');
    const pyQueue = names.name('py');
    const noriQueue = names.name('nori');
    const shared = { connection: { transportOptions: AMQP_TRANSPORT_OPTIONS }, ...CELERY_NAMES };
    let dir: string;
    let python: CeleryWorker;
    let client: App;
    let server: App;
    let noriWorker: Worker;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'nori-progress-interop-'));
      python = await startCeleryWorker({ broker: b.broker, backend: b.backend, queue: pyQueue });
      client = new App({ broker: b.broker, backend: b.backend, defaultQueue: pyQueue, ...shared });
      server = new App({ broker: b.broker, backend: b.backend, defaultQueue: noriQueue, ...shared });
      server.task('nori.progress', async (gate: string) => {
        await currentTask().updateState('DOWNLOADING', { file: 'a.csv', percent: 50 });
        const deadline = Date.now() + 30_000;
        while (!existsSync(gate) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return { gate: existsSync(gate) };
      });
      noriWorker = server.worker({ concurrency: 2 });
      await noriWorker.start();
    });

    afterAll(async () => {
      await noriWorker?.stop();
      await python?.stop();
      const conn = new Connection(b.broker);
      await names.deleteAll(conn);
      await deleteCeleryNames(conn);
      await conn.close();
      await server?.close();
      await client?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("nori reads a Python task's update_state: states() and info see PROGRESS and its meta, then SUCCESS", async () => {
      const gate = join(dir, randomUUID());
      const r = await client.sendTask('interop.progress', [gate]);
      const seen: Array<[string, unknown]> = [];
      for await (const s of r.states({ timeout: 30_000 })) {
        if (s.state === 'PENDING') continue;
        seen.push([s.state, r.info]);
        if (s.state === 'PROGRESS') await writeFile(gate, '');
      }
      expect(seen).toEqual([
        ['PROGRESS', { current: 1, total: 2 }],
        ['SUCCESS', { gate: true }],
      ]);
    });

    it("Python reads a nori task's updateState: AsyncResult.state and .info, then the result", async () => {
      const env: CeleryEnv = { broker: b.broker, backend: b.backend, queue: noriQueue };
      const gate = join(dir, randomUUID());
      const { seen, result } = await pythonProgress(env, { task: { name: 'nori.progress', args: [gate] }, state: 'DOWNLOADING', gate });
      expect(seen).toEqual({ state: 'DOWNLOADING', info: { file: 'a.csv', percent: 50 } });
      expect(result).toMatchObject({ state: 'SUCCESS', value: { gate: true } });
    });
  });
}
