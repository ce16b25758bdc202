/**
 * Leases instead of a visibility-timeout trap, with real SIGKILLs of worker processes on a unique
 * queue of the shared Redis and a 1 s lease:
 * - late acks + a worker killed mid-task: the task runs again in another worker, and its result
 *   is stored once (one SUCCESS published on its result channel);
 * - a task 3x longer than the lease runs exactly once although another worker waits on the queue;
 * - a countdown 5x the lease runs exactly once, not before its ETA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import '@nori/redis';
import { App } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';

const BROKER = redisUrl();
const LEASE_MS = 1000;
const root = fileURLToPath(new URL('../../..', import.meta.url));
const child = fileURLToPath(new URL('./fault-worker.ts', import.meta.url));

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  /** Task ids this process started. */
  started: string[];
  done: string[];
}

const children: Child[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startWorker(queue: string): Child {
  const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', child, BROKER, queue, String(LEASE_MS)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const c: Child = { proc, ready: Promise.resolve(), started: [], done: [] };
  let markReady!: () => void;
  c.ready = new Promise((resolve) => (markReady = resolve));
  let buffer = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const [what, id] = line.split(' ');
      if (what === 'ready') markReady();
      else if (what === 'start') c.started.push(id as string);
      else if (what === 'done') c.done.push(id as string);
    }
  });
  children.push(c);
  return c;
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function setup(): { app: App; queue: string } {
  const queue = `tasks-fault-${randomUUID().slice(0, 8)}`;
  const app = new App({ broker: BROKER, backend: redisUrl(1), defaultQueue: queue });
  cleanups.push(async () => {
    const conn = new Connection(BROKER);
    await conn.deleteQueue(queue).catch(() => undefined);
    await conn.close();
    await app.close();
  });
  return { app, queue };
}

/** Counts SUCCESS states published on a result's channel (every store PUBLISHes there). */
async function countSuccessStores(taskId: string): Promise<{ count: () => number; close: () => Promise<void> }> {
  const sub = new Redis(redisUrl(1));
  let successes = 0;
  sub.on('message', (_channel: string, payload: string) => {
    if ((JSON.parse(payload) as { status: string }).status === 'SUCCESS') successes++;
  });
  await sub.subscribe(`celery-task-meta-${taskId}`);
  return { count: () => successes, close: async () => void (await sub.quit()) };
}

it('acksLate + a worker SIGKILLed mid-task: the task runs again elsewhere and its result is stored once', async () => {
  const { app, queue } = setup();
  const a = startWorker(queue);
  await a.ready;
  const result = await app.sendTask('fault.sleep', [1500]);
  const stores = await countSuccessStores(result.id);
  await until(() => a.started.includes(result.id), 15_000);
  a.proc.kill('SIGKILL');
  await new Promise((r) => a.proc.once('exit', r));
  const b = startWorker(queue);
  // The killed worker's lease lapses (1 s) and the sweep gives the message to b.
  expect(await result.get({ timeout: 30_000 })).toBe(b.proc.pid);
  expect(a.done).toEqual([]);
  expect(b.started).toEqual([result.id]);
  await new Promise((r) => setTimeout(r, 500));
  expect(stores.count()).toBe(1);
  await stores.close();
}, 60_000);

it('a task 3x longer than the lease runs exactly once while its worker lives', async () => {
  const { app, queue } = setup();
  const a = startWorker(queue);
  await a.ready;
  const result = await app.sendTask('fault.sleep', [3 * LEASE_MS]);
  await until(() => a.started.includes(result.id), 15_000);
  // A second worker on the same queue would take the message if its lease lapsed.
  const b = startWorker(queue);
  await b.ready;
  expect(await result.get({ timeout: 30_000 })).toBe(a.proc.pid);
  await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
  expect(a.started).toEqual([result.id]);
  expect(b.started).toEqual([]);
}, 60_000);

it('a countdown 5x the lease runs exactly once, not before its ETA', async () => {
  const { app, queue } = setup();
  const workers = [startWorker(queue), startWorker(queue)];
  await Promise.all(workers.map((w) => w.ready));
  const sentAt = Date.now();
  const result = await app.sendTask('fault.sleep', [10], {}, { countdown: 5 * LEASE_MS });
  const pid = await result.get({ timeout: 30_000 });
  const ranAfter = Date.now() - sentAt;
  await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
  const runs = workers.flatMap((w) => w.started.filter((id) => id === result.id));
  expect(runs).toHaveLength(1);
  expect(workers.map((w) => w.proc.pid)).toContain(pid);
  expect(ranAfter).toBeGreaterThanOrEqual(5 * LEASE_MS - 50);
}, 60_000);
