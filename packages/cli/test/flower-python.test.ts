/**
 * `nori flower` watching a Python Celery 5.2 worker started without -E: flower turns its events on
 * (enable_events, as Flower does), and the API shows the worker, its tasks and their results, and
 * changes its rate limit through Celery's own remote control.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { startPython, type PythonProcess } from '../../tasks/test/python/python-process.js';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, cleanUp } from './bin.js';
import { apiAt, startFlower, until as waitUntil } from './flower-client.js';

const queue = `cli-pyflower-${randomUUID().slice(0, 8)}`;
const node = `${queue}@python`;
const conn = new Connection(REDIS);
let base = '';
let worker: PythonProcess | undefined;

const api = <T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> => apiAt<T>(base, path, init);
const until = <T>(fn: () => Promise<T | undefined>, timeout = 30_000): Promise<T> => waitUntil(fn, timeout, 200);

beforeAll(async () => {
  // The app module only for the file's own mailbox and event exchange, which the Python worker uses too.
  base = await startFlower(APP, { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV });
  worker = await startPython(
    ['-m', 'celery', '-A', 'interop_app', 'worker', '--pool', 'solo', '-Q', queue, '-n', node, '--without-gossip', '--without-mingle', '-l', 'INFO'],
    { NORI_BROKER: REDIS, NORI_BACKEND: BACKEND, NORI_QUEUE: queue },
    /ready\./,
  );
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await cleanUp(conn, [queue]);
});

describe('nori flower with a Python Celery worker', () => {
  it('shows the worker, a task it ran with its result, and sets its rate limit', async () => {
    // Worker events (heartbeats) come without -E; task events once flower's enable_events (sent
    // every 5 s, as Flower does) reaches the worker.
    await until(async () => ((await api<Record<string, boolean>>('/api/workers?status=true'))[node] ? true : undefined)).catch(async (e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(await api('/api/workers?status=true'))}\n${worker!.output()}`);
    });
    await until(async () => (worker!.output().includes('Events of group {task} enabled by remote') ? true : undefined), 15_000);
    const sent = await api('/api/task/send-task/interop.add', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [2, 3], queue }),
    });
    const id = sent['task-id'] as string;
    const info = await until(async () => {
      const i = await api(`/api/task/info/${id}`);
      return i['state'] === 'SUCCESS' ? i : undefined;
    }).catch(async (e: unknown) => {
      throw new Error(
        `${String(e)}: ${id} ${JSON.stringify(await fetch(`${base}/api/task/info/${id}`).then((r) => r.text()))}\n${worker!
          .output()
          .split('\n')
          .filter((l) => !l.includes(' . '))
          .join('\n')}`,
      );
    });
    expect(info).toMatchObject({ 'task-id': id, name: 'interop.add', args: '(2, 3)', result: '5', worker: node });
    expect(await api(`/api/task/result/${id}`)).toEqual({ 'task-id': id, state: 'SUCCESS', result: 5 });

    const workers = await api<Record<string, Record<string, unknown>>>(`/api/workers?workername=${encodeURIComponent(node)}&refresh=1`);
    expect(workers[node]!['registered']).toEqual(expect.arrayContaining(['interop.add']));
    expect((workers[node]!['stats'] as Record<string, unknown>)['pid']).toBe(worker!.process.pid);

    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect(
      await api('/api/task/rate-limit/interop.add', { method: 'POST', headers: form, body: `ratelimit=50/m&workername=${encodeURIComponent(node)}` }),
    ).toEqual({ message: 'new rate limit set successfully' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`flower_events_total{worker="${node}",type="task-succeeded",task="interop.add"} 1`);
  }, 60_000);
});
