/**
 * Remote control between nori and Python Celery 5.2 on Redis and RabbitMQ: Celery's own CLI
 * (`celery inspect ping / active`, `celery control revoke`) drives a nori worker, and nori's
 * inspect lists a real `celery worker`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { currentTask, TaskRevokedError } from '@nori/tasks';
import { NETWORK_BROKERS, waitFor } from './brokers.js';
import { CELERY_NAMES_ENV } from './celery-names.js';
import { startCeleryWorker } from './python/celery.js';
import { PYTHON, PYTHON_DIR } from './python/python-process.js';
import { cleanup, testbed } from './testbed.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

/** `celery -A interop_app <args> --json`: the parsed reply. */
async function celery(broker: string, args: string[]): Promise<unknown> {
  const { stdout } = await run(PYTHON, ['-m', 'celery', '-A', 'interop_app', ...args, '--json'], {
    env: {
      ...process.env,
      PYTHONPATH: PYTHON_DIR,
      PYTHONDONTWRITEBYTECODE: '1',
      ...CELERY_NAMES_ENV,
      NORI_BROKER: broker,
      NORI_BACKEND: '',
      NORI_QUEUE: 'celery',
    },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string);
}

for (const b of NETWORK_BROKERS) {
  describe(`remote control: nori ↔ Python Celery 5.2 on ${b.name}`, () => {
    it('`celery inspect ping / active` list a nori worker; `celery control revoke` stops a queued nori task', async () => {
      const { app, worker: start } = testbed(b.broker, { backend: 'memory://' });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const ran: string[] = [];
      const blocker = app.task('ctli.block', async (label: string) => {
        ran.push(currentTask().id);
        await gate;
        return label;
      });
      const hostname = `nori-${randomUUID().slice(0, 8)}@interop`;
      await start({ hostname, concurrency: 1 });
      const running = await blocker.delay('first');
      const queued = await blocker.delay('second');
      await waitFor('the first task to run', () => ran.length === 1);

      expect(await celery(b.broker, ['inspect', 'ping', '-d', hostname, '-t', '5'])).toEqual({ [hostname]: { ok: 'pong' } });
      const active = (await celery(b.broker, ['inspect', 'active', '-d', hostname, '-t', '5'])) as Record<string, Array<Record<string, unknown>>>;
      expect(active[hostname]).toEqual([expect.objectContaining({ id: running.id, name: 'ctli.block', args: ['first'], hostname })]);
      // `celery control --json` prints the list of replies.
      expect(await celery(b.broker, ['control', 'revoke', queued.id, '-d', hostname, '-t', '5'])).toEqual([
        { [hostname]: { ok: `tasks ${queued.id} flagged as revoked` } },
      ]);

      release();
      expect(await running.get({ timeout: 10_000 })).toBe('first');
      await expect(queued.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskRevokedError);
      expect(ran).toEqual([running.id]);
    });

    it("nori's inspect lists a `celery worker`", async () => {
      const { app, queue } = testbed(b.broker, { backend: 'memory://' });
      const node = `${queue}@python`;
      // Threads, not solo: a solo worker cannot answer while a task runs.
      const worker = await startCeleryWorker({ broker: b.broker, queue }, { pool: 'threads', concurrency: 2, node });
      cleanups.push(() => worker.stop());
      const inspect = app.control.inspect({ destination: [node], timeout: 5000 });
      expect(await inspect.ping()).toEqual({ [node]: { ok: 'pong' } });
      expect((await inspect.registered())?.[node]).toEqual(expect.arrayContaining(['interop.add', 'interop.sleeper']));
      const sleeping = await app.sendTask('interop.sleeper', [4], {}, { queue });
      await waitFor('the Python task to be active', async () => ((await inspect.active())?.[node]?.length ?? 0) === 1, 20_000);
      expect((await inspect.active())?.[node]).toEqual([expect.objectContaining({ id: sleeping.id, name: 'interop.sleeper', args: [4] })]);
      expect((await inspect.stats())?.[node]).toMatchObject({ pid: worker.process.pid, pool: expect.any(Object) });
      const queues = (await inspect.activeQueues())?.[node] as Array<{ name: string }>;
      expect(queues.map((q) => q.name)).toEqual([queue]);
    });
  });
}
