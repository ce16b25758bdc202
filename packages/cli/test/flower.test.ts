/**
 * `nori flower` (the real bin) watching a `nori worker -E`, both on Redis: Flower's API answers
 * with Flower's documented shapes (the examples of flower/api/*.py below, compared field by
 * field), /metrics has Flower's metric names, basic auth and read-only hold, and the page, in
 * headless Chromium, shows the worker and a task sent during the test with its result.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, cleanUp, run, start } from './bin.js';
import { apiAt, startFlower, until } from './flower-client.js';

const queue = `cli-flower-${randomUUID().slice(0, 8)}`;
const extraQueue = `${queue}-extra`;
const hostname = `flower-${randomUUID().slice(0, 8)}@test`;
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const conn = new Connection(REDIS);
let base = '';
let lockedBase = '';

const flower = (extra: string[]): Promise<string> => startFlower(APP, env, extra);
const api = <T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> => apiAt<T>(base, path, init);

/** Every documented key is there, with a value of the same JSON type when both are set. */
function expectFlowerShape(documented: Record<string, unknown>, ours: Record<string, unknown>): void {
  const kind = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  for (const [key, value] of Object.entries(documented)) {
    expect(ours, `field ${key}`).toHaveProperty([key]);
    if (value !== null && ours[key] !== null) expect(kind(ours[key]), `type of ${key}`).toBe(kind(value));
  }
}

// flower/api/tasks.py, TaskInfo.get's example response.
const DOC_TASK_INFO = {
  args: '[2, 2]',
  client: null,
  clock: 25,
  eta: null,
  exception: null,
  exchange: null,
  expires: null,
  failed: null,
  kwargs: '{}',
  name: 'tasks.add',
  received: 1400806241.970742,
  result: "'4'",
  retried: null,
  retries: null,
  revoked: null,
  routing_key: null,
  runtime: 2.0037889280356467,
  sent: null,
  started: 1400806241.972624,
  state: 'SUCCESS',
  succeeded: 1400806243.975336,
  'task-id': '91396550-c228-4111-9da4-9d88cfd5ddc6',
  timestamp: 1400806243.975336,
  traceback: null,
  worker: 'celery@worker1',
};
// flower/api/tasks.py, ListTasks.get's example response (one of its two tasks).
const DOC_TASK_LIST_ITEM = {
  args: '[3, 4]',
  client: null,
  clock: 1079,
  eta: null,
  exception: null,
  exchange: null,
  expires: null,
  failed: null,
  kwargs: '{}',
  name: 'tasks.add',
  received: 1398505411.107885,
  result: "'7'",
  retried: null,
  retries: 0,
  revoked: null,
  routing_key: null,
  runtime: 0.01610181899741292,
  sent: null,
  started: 1398505411.108985,
  state: 'SUCCESS',
  succeeded: 1398505411.124802,
  timestamp: 1398505411.124802,
  traceback: null,
  uuid: 'e42ceb2d-8730-47b5-8b4d-8e0d2a1ef7c9',
  worker: 'celery@worker1',
};
// flower/api/workers.py, ListWorkers.get's example (top level of one worker; stats trimmed to the keys nori has too).
const DOC_WORKER = {
  active_queues: [{ name: 'celery', exchange: { name: 'celery', type: 'direct' }, routing_key: 'celery' }],
  conf: {},
  registered: ['tasks.add'],
  stats: { pid: 90494, prefetch_count: 16, pool: { 'max-concurrency': 4 }, total: { 'tasks.add': 1 } },
  timestamp: 1438049312.073402,
};

beforeAll(async () => {
  [base, lockedBase] = await Promise.all([flower([]), flower(['--read-only', '--basic-auth', 'admin:s3cret'])]);
  const worker = start(['-A', APP, 'worker', '-E', '-c', '2', '-n', hostname, '-l', 'info'], env);
  await worker.waitFor(/ready, consuming/);
  await until(async () => ((await api<Record<string, boolean>>('/api/workers?status=true'))[hostname] ? true : undefined));
});

afterAll(async () => {
  await cleanUp(conn, [queue, extraQueue]);
});

describe("nori flower: the API in Flower's shapes", () => {
  it('async-apply, task info, task list with filters, result, types', async () => {
    const sent = await api('/api/task/async-apply/cli.add', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [2, 2] }),
    });
    expectFlowerShape({ state: 'PENDING', 'task-id': 'abc300c7-2922-4069-97b6-a635cc2ac47c' }, sent);
    expect(sent['state']).toBe('PENDING');
    const id = sent['task-id'] as string;

    const info = await until(async () => {
      const i = await api(`/api/task/info/${id}`);
      return i['state'] === 'SUCCESS' ? i : undefined;
    });
    expectFlowerShape(DOC_TASK_INFO, info);
    expect(info).toMatchObject({ 'task-id': id, name: 'cli.add', args: '(2, 2)', kwargs: '{}', result: '4', worker: hostname, state: 'SUCCESS' });
    for (const t of ['received', 'started', 'succeeded', 'timestamp', 'runtime', 'clock']) expect(typeof info[t], t).toBe('number');
    expect(info['succeeded'] as number).toBeGreaterThanOrEqual(info['received'] as number);

    const list = await api<Record<string, Record<string, unknown>>>(
      `/api/tasks?taskname=cli.add&state=SUCCESS&workername=${encodeURIComponent(hostname)}&limit=5`,
    );
    expect(list[id]).toBeDefined();
    expectFlowerShape(DOC_TASK_LIST_ITEM, list[id]!);
    expect(Object.keys(await api(`/api/tasks?state=FAILURE&workername=${encodeURIComponent(hostname)}`))).not.toContain(id);
    expect(Object.keys(await api(`/api/tasks?search=${id.slice(0, 13)}`))).toEqual([id]);
    const second = await api('/api/task/send-task/cli.add', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [1, 1] }),
    });
    await until(async () => ((await api(`/api/task/info/${String(second['task-id'])}`))['state'] === 'SUCCESS' ? true : undefined));
    const page = Object.keys(await api(`/api/tasks?taskname=cli.add&workername=${encodeURIComponent(hostname)}&sort_by=received`));
    expect(page).toEqual([id, second['task-id']]);
    expect(Object.keys(await api(`/api/tasks?taskname=cli.add&workername=${encodeURIComponent(hostname)}&sort_by=received&offset=1&limit=1`))).toEqual([
      second['task-id'],
    ]);
    expect((await fetch(`${base}/api/tasks?sort_by=nope`)).status).toBe(400);

    // flower/api/tasks.py, TaskResult.get's example: {"task-id": ..., "state": "SUCCESS", "result": 3}
    expect(await api(`/api/task/result/${id}`)).toEqual({ 'task-id': id, state: 'SUCCESS', result: 4 });
    expect((await api<{ 'task-types': string[] }>('/api/task/types'))['task-types']).toContain('cli.add');
    expect((await fetch(`${base}/api/task/info/${randomUUID()}`)).status).toBe(404);
    expect((await fetch(`${base}/api/task/async-apply/cli.nope`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(
      404,
    );
  });

  it('workers, queue lengths, revoke, rate limit, time limits', async () => {
    const workers = await api<Record<string, Record<string, unknown>>>(`/api/workers?workername=${encodeURIComponent(hostname)}&refresh=true`);
    expectFlowerShape(DOC_WORKER, workers[hostname]!);
    expect(workers[hostname]!['registered']).toEqual(expect.arrayContaining(['cli.add', 'cli.sleep']));
    expect((workers[hostname]!['active_queues'] as Array<{ name: string }>).map((q) => q.name)).toContain(queue);
    expect((await api<Record<string, boolean>>('/api/workers?status=true'))[hostname]).toBe(true);
    expect((await fetch(`${base}/api/workers?workername=nobody@nowhere`)).status).toBe(404);

    // {"active_queues": [{"name": "celery", "messages": 0}, ...]}
    const lengths = await api<{ active_queues: Array<{ name: string; messages: number }> }>('/api/queues/length');
    expect(lengths.active_queues).toContainEqual({ name: queue, messages: 0 });

    const id = randomUUID();
    expect(await api(`/api/task/revoke/${id}`, { method: 'POST' })).toEqual({ message: `Revoked '${id}'` });
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect(
      await api('/api/task/rate-limit/cli.add', { method: 'POST', headers: form, body: `ratelimit=200&workername=${encodeURIComponent(hostname)}` }),
    ).toEqual({ message: 'new rate limit set successfully' });
    expect(
      await api('/api/task/timeout/cli.sleep', { method: 'POST', headers: form, body: `soft=30&hard=100&workername=${encodeURIComponent(hostname)}` }),
    ).toEqual({ message: 'time limits set successfully' });
    expect(
      (await fetch(`${base}/api/task/rate-limit/cli.add`, { method: 'POST', headers: form, body: 'ratelimit=200&workername=nobody%40nowhere' })).status,
    ).toBe(404);
  });

  it("Flower's worker controls, abort and the search syntax", async () => {
    const w = encodeURIComponent(hostname);
    const post = (path: string): Promise<Record<string, unknown>> => api(path, { method: 'POST' });
    const concurrency = async (): Promise<unknown> =>
      (await api<Record<string, { stats: { pool: Record<string, unknown> } }>>(`/api/workers?workername=${w}&refresh=true`))[hostname]!.stats.pool[
        'max-concurrency'
      ];
    // flower/api/control.py's example messages.
    expect(await post(`/api/worker/pool/grow/${w}?n=2`)).toEqual({ message: `Growing '${hostname}' worker's pool by 2` });
    expect(await concurrency()).toBe(4);
    expect(await post(`/api/worker/pool/shrink/${w}?n=2`)).toEqual({ message: `Shrinking '${hostname}' worker's pool by 2` });
    expect(await concurrency()).toBe(2);
    expect(await post(`/api/worker/queue/add-consumer/${w}?queue=${extraQueue}`)).toEqual({ message: `add consumer ${extraQueue}` });
    const queues = async (): Promise<string[]> =>
      (await api<Record<string, { active_queues: Array<{ name: string }> }>>(`/api/workers?workername=${w}&refresh=true`))[hostname]!.active_queues.map(
        (q) => q.name,
      );
    expect(await queues()).toEqual(expect.arrayContaining([queue, extraQueue]));
    expect(await post(`/api/worker/queue/cancel-consumer/${w}?queue=${extraQueue}`)).toEqual({ message: `no longer consuming from ${extraQueue}` });
    expect(await queues()).not.toContain(extraQueue);
    expect((await fetch(`${base}/api/worker/pool/grow/nobody%40nowhere`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/api/worker/queue/add-consumer/${w}`, { method: 'POST' })).status).toBe(400);
    const auth = { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
    expect((await fetch(`${lockedBase}/api/worker/pool/grow/${w}`, { method: 'POST', headers: auth })).status).toBe(403);

    // Celery's AbortableAsyncResult.abort(): ABORTED in the result backend.
    const aborted = randomUUID();
    expect(await post(`/api/task/abort/${aborted}`)).toEqual({ message: `Aborted '${aborted}'` });
    expect(await api(`/api/task/result/${aborted}`)).toMatchObject({ 'task-id': aborted, state: 'ABORTED' });

    // Flower's search syntax over what the worker ran.
    const failed = await api('/api/task/async-apply/cli.fail', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"args": ["no way"]}',
    });
    const fid = failed['task-id'] as string;
    await until(async () => ((await api(`/api/task/info/${fid}`))['state'] === 'FAILURE' ? true : undefined));
    const search = async (q: string): Promise<string[]> => Object.keys(await api(`/api/tasks?search=${encodeURIComponent(q)}`));
    expect(await search('state:FAILURE name:cli.fail')).toEqual([fid]);
    expect(await search('result:"no way"')).toEqual([fid]);
    expect(await search(`(state:FAILURE OR state:REVOKED) worker:${hostname}`)).toEqual([fid]);
    expect(await search('args:"no way" state:SUCCESS')).toEqual([]);
    const bad = await fetch(`${base}/api/tasks?search=${encodeURIComponent('state:FAILURE OR')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'OR must be followed by a search term at position 14.' });
    // The page's list: a page of the query with Flower's datatable counts.
    const page = await api<{ tasks: Array<{ uuid: string }>; filtered: number; total: number }>(
      '/dashboard/tasks?search=name:cli.fail&sort_by=-received&limit=1',
    );
    expect(page.tasks.map((t) => t.uuid)).toEqual([fid]);
    expect(page.filtered).toBe(1);
    expect(page.total).toBeGreaterThanOrEqual(1);
  });

  it('a far-ETA task revoked by anyone (here `nori control revoke`) shows REVOKED, not RECEIVED until its ETA', async () => {
    const sent = await api('/api/task/async-apply/cli.add', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"args": [1, 2], "countdown": 3600}',
    });
    const id = sent['task-id'] as string;
    await until(async () => ((await api(`/api/task/info/${id}`))['state'] === 'RECEIVED' ? true : undefined));
    const revoke = await run(['-A', APP, 'control', 'revoke', id, '-d', hostname, '--json', '--timeout', '3'], env);
    expect(revoke.code).toBe(0);
    const info = await until(async () => {
      const i = await api(`/api/task/info/${id}`);
      return i['state'] === 'REVOKED' ? i : undefined;
    }, 5000);
    expect(typeof info['revoked']).toBe('number');
    expect(Object.keys(await api(`/api/tasks?state=REVOKED&search=${id}`))).toEqual([id]);
  });

  it('/api/worker/shutdown stops the worker it names', async () => {
    const name = `flower-down-${randomUUID().slice(0, 8)}@test`;
    const doomed = start(['-A', APP, 'worker', '-E', '-n', name, '-l', 'info'], env);
    await doomed.waitFor(/ready, consuming/);
    await until(async () => ((await api<Record<string, boolean>>('/api/workers?status=true'))[name] ? true : undefined));
    expect(await api(`/api/worker/shutdown/${encodeURIComponent(name)}`, { method: 'POST' })).toEqual({ message: 'Shutting down!' });
    expect(await doomed.exited).toBe(0);
  });

  it("/metrics has Flower's metric names and labels", async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const w = `worker="${hostname}"`;
    expect(text).toMatch(new RegExp(`^flower_events_total\\{${w},type="task-succeeded",task="cli.add"\\} [1-9]`, 'm'));
    expect(text).toContain(`flower_worker_online{${w}} 1`);
    // Label order is the exposition's business (prom-client puts le first); names and values are Flower's.
    const buckets = text.split('\n').filter((l) => l.startsWith('flower_task_runtime_seconds_bucket{') && l.includes(w) && l.includes('task="cli.add"'));
    expect(buckets.map((l) => /le="([^"]+)"/.exec(l)![1])).toEqual([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
      '+Inf',
    ]);
    expect(Number(buckets.at(-1)!.split(' ').at(-1))).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^flower_task_prefetch_time_seconds\\{${w},task="cli.add"\\} `, 'm'));
    expect(text).toContain('# TYPE flower_worker_number_of_currently_executing_tasks gauge');
    expect(text).toContain('# TYPE flower_worker_prefetched_tasks gauge');
    // prom-client's process and Node runtime families beside Flower's.
    for (const family of [
      'process_cpu_user_seconds_total counter',
      'process_resident_memory_bytes gauge',
      'process_start_time_seconds gauge',
      'process_open_fds gauge',
      'nodejs_eventloop_lag_seconds gauge',
      'nodejs_heap_size_used_bytes gauge',
      'nodejs_gc_duration_seconds histogram',
      'nodejs_version_info gauge',
    ])
      expect(text).toContain(`# TYPE ${family}`);
  });

  it('basic auth and read-only mode', async () => {
    expect((await fetch(`${lockedBase}/api/workers?status=true`)).status).toBe(401);
    const auth = { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
    expect(
      (await fetch(`${lockedBase}/api/workers?status=true`, { headers: { Authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } })).status,
    ).toBe(401);
    expect((await fetch(`${lockedBase}/api/workers?status=true`, { headers: auth })).status).toBe(200);
    const post = await fetch(`${lockedBase}/api/task/async-apply/cli.add`, { method: 'POST', headers: auth, body: '{"args": [1, 2]}' });
    expect(post.status).toBe(403);
    expect((await fetch(`${lockedBase}/api/task/revoke/${randomUUID()}`, { method: 'POST', headers: auth })).status).toBe(403);
  });
});
