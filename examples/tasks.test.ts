/**
 * The README's task examples, run as written: the quick start on memory:// and on Redis, a call
 * of a Python task served by a real `celery worker`, and a nori worker serving a task Python calls.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Connection } from '@nori/core';
import '@nori/redis';
import { startCeleryWorker } from '../packages/tasks/test/python/celery.js';
import { PYTHON } from '../packages/tasks/test/python/python-process.js';
import { redisUrl } from '@nori/testing/brokers';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const pythonDir = fileURLToPath(new URL('./python/', import.meta.url));
const BROKER = redisUrl();
const BACKEND = redisUrl(1);
/** What the examples and examples/python/proj.py read their URLs from (they default to the local Redis). */
const URLS = { BROKER, BACKEND };
const node = (script: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ stdout: string }> =>
  run(process.execPath, ['--conditions=nori-src', '--import', 'tsx', script, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 });

const queues: string[] = [];
const queue = (): string => {
  const name = `example-${randomUUID().slice(0, 8)}`;
  queues.push(name);
  return name;
};
afterAll(async () => {
  const conn = new Connection(BROKER);
  for (const q of queues) {
    await conn.deleteQueue(q).catch(() => undefined);
    // Celery binds a queue it creates to an exchange of the queue's name.
    await conn.deleteExchange(q).catch(() => undefined);
  }
  // The served example's worker answers remote control on Celery's mailbox, which every app on the
  // broker shares: deleted only when no worker's queue is bound to it any more.
  const redis = new Redis(BROKER);
  if ((await redis.scard('_kombu.binding.celery.pidbox')) === 0) await conn.deleteExchange('celery.pidbox');
  redis.disconnect();
  await conn.close();
});

const quickstart = ['add(2, 3) = 5', 'add(40, 2) after 500 ms = 42 (SUCCESS)', 'divide(1, 0) failed: RangeError: cannot divide 1 by zero'];

describe('task examples', () => {
  it('the quick start on memory://', async () => {
    const { stdout } = await node('examples/tasks-quickstart.ts');
    expect(stdout.trim().split('\n')).toEqual(quickstart);
  });

  it('the quick start on Redis', async () => {
    const { stdout } = await node('examples/tasks-quickstart.ts', [BROKER, BACKEND], { QUEUE: queue() });
    expect(stdout.trim().split('\n')).toEqual(quickstart);
  });

  it('calls a Python task served by celery worker', async () => {
    const q = queue();
    const worker = await startCeleryWorker({ broker: BROKER, backend: BACKEND, queue: q, app: { module: 'proj', dir: pythonDir }, env: URLS });
    try {
      const { stdout } = await node('examples/tasks-call-python.ts', [], { ...URLS, QUEUE: q });
      expect(stdout).toContain("Python's tasks.add(2, 3) = 5");
    } finally {
      await worker.stop();
    }
  });

  it('serves a task that Python calls', async () => {
    const q = queue();
    const server = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', 'examples/tasks-serve-python.ts'], {
      cwd: root,
      env: { ...process.env, ...URLS, QUEUE: q },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => server.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout.on('data', (d: Buffer) => d.toString().includes('serving tasks.shout') && resolve());
        server.once('exit', (code) => reject(new Error(`example exited ${code}`)));
      });
      const { stdout } = await run(PYTHON, ['-c', "from proj import shout; print(shout.delay('hi').get(timeout=20))"], {
        cwd: pythonDir,
        env: { ...process.env, ...URLS, PYTHONPATH: pythonDir, QUEUE: q },
        timeout: 60_000,
      });
      expect(stdout.trim()).toBe('HI!');
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});
