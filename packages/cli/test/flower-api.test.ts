/**
 * Flower's task and worker API in-process, with a worker of the same process on the memory broker:
 * what each route sends, the arguments it reads and refuses, the worker it names, its answer.
 * flower.test.ts checks the same shapes through the `nori` CLI in child processes, where a mutation
 * audit cannot see them. Each test starts its own worker and server: routes made while a file
 * loads (or in beforeAll) are invisible to a mutation run's per-test coverage.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '@nori/tasks';
import { startFlower, type FlowerServer } from '../src/flower/server.js';
import { until } from './flower-client.js';
import { ask, type Answer } from './http-ask.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

interface Setup {
  app: App;
  server: FlowerServer;
  hostname: string;
  /** The worker's name as a path part. */
  w: string;
  get(path: string): Promise<Answer>;
  post(path: string, body?: unknown): Promise<Answer>;
}

async function setup(o: { backend?: boolean; worker?: boolean; readOnly?: boolean } = {}): Promise<Setup> {
  const queue = `flower-api-${randomUUID().slice(0, 8)}`;
  const app = new App({ broker: 'memory://', ...(o.backend !== false && { backend: 'memory://' }), defaultQueue: queue });
  closing.push(() => app.close());
  app.task('t.add', (x: number, y: number) => x + y);
  app.task('t.count', (...args: unknown[]) => args.length);
  app.task('t.fail', (message: string) => {
    throw new RangeError(message);
  });
  app.task('t.sleep', async (ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'slept';
  });
  const hostname = `${queue}@test`;
  if (o.worker !== false) {
    const worker = app.worker({ hostname, sendEvents: true });
    await worker.start();
    closing.push(() => worker.stop());
  }
  const server = await startFlower(app, { port: 0, unauthenticatedApi: true, inspectTimeout: 300, readOnly: o.readOnly === true });
  closing.push(() => server.close());
  return {
    app,
    server,
    hostname,
    w: encodeURIComponent(hostname),
    get: (path) => ask(`${server.url}${path}`),
    post: (path, body) =>
      ask(`${server.url}${path}`, {
        method: 'POST',
        ...(body !== undefined && { headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
  };
}

const parsed = (a: Answer): Record<string, unknown> => JSON.parse(a.body) as Record<string, unknown>;
const statusAndError = (a: Answer): [number, unknown] => [a.status, parsed(a)['error']];

/** The task's info once the monitor shows `state`. */
const infoWhen = (s: Setup, id: string, state: string): Promise<Record<string, unknown>> =>
  until(async () => {
    const info = parsed(await s.get(`/api/task/info/${id}`));
    return info['state'] === state ? info : undefined;
  }, 5000);

describe('flower API: tasks (in-process)', () => {
  it('async-apply, send-task and apply: what is sent, and what each answers', async () => {
    const s = await setup();
    const sent = parsed(await s.post('/api/task/async-apply/t.add', { args: [2, 3] }));
    expect(sent).toEqual({ 'task-id': expect.any(String), state: 'PENDING' });
    expect(await infoWhen(s, sent['task-id'] as string, 'SUCCESS')).toMatchObject({ name: 't.add', args: '(2, 3)', result: '5', worker: s.hostname });
    const applied = parsed(await s.post('/api/task/apply/t.add', { args: [1, 1] }));
    expect(applied).toEqual({ 'task-id': expect.any(String), state: 'SUCCESS', result: 2 });
    // No body: no arguments.
    expect(parsed(await s.post('/api/task/apply/t.count'))).toMatchObject({ state: 'SUCCESS', result: 0 });
    expect(statusAndError(await s.post('/api/task/async-apply/t.nope', {}))).toEqual([404, "Unknown task 't.nope'"]);
    // A JSON body must say so: text/plain is what another site's form can send.
    const plain = await ask(`${s.server.url}/api/task/async-apply/t.add`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    expect(statusAndError(plain)).toEqual([415, 'Send the body as JSON, with Content-Type: application/json']);
    expect(statusAndError(await s.post('/api/task/apply/t.nope', {}))).toEqual([404, "Unknown task 't.nope'"]);
    // send-task sends any name, as Celery's send_task.
    const other = await s.post('/api/task/send-task/elsewhere.task', { args: [] });
    expect([other.status, parsed(other)['state']]).toEqual([200, 'PENDING']);
    const failed = parsed(await s.post('/api/task/apply/t.fail', { args: ['no way'] }));
    expect(failed).toMatchObject({ state: 'FAILURE', result: "RangeError('no way')" });
    expect(failed['traceback']).toContain('RangeError: no way');
  });

  it('a task the app registers needs no worker to know it; no worker, no reply (403)', async () => {
    const s = await setup({ worker: false });
    expect(statusAndError(await s.post('/api/task/rate-limit/t.add?ratelimit=10'))).toEqual([403, "Failed to set rate limit: 'no reply from the worker'"]);
    expect(parsed(await s.get('/api/queues/length'))).toEqual({ active_queues: [{ name: s.app.conf.defaultQueue, messages: 0 }] });
  });

  it('without a result backend: only the task id, and no result or abort (503)', async () => {
    const s = await setup({ backend: false });
    const sent = parsed(await s.post('/api/task/async-apply/t.add', { args: [2, 3] }));
    expect(sent).toEqual({ 'task-id': expect.any(String) });
    expect(parsed(await s.post('/api/task/apply/t.add', { args: [2, 3] }))).toEqual({ 'task-id': expect.any(String) });
    expect(statusAndError(await s.get(`/api/task/result/${randomUUID()}`))).toEqual([503, 'Result backend is not configured']);
    expect(statusAndError(await s.post(`/api/task/abort/${randomUUID()}`))).toEqual([503, 'Result backend is not configured']);
  });

  it('the body: args an array, kwargs an object, options in seconds or dates, anything else 400', async () => {
    const s = await setup();
    for (const [body, error] of [
      ['{"args": [', expect.stringContaining('JSON')],
      ['[1, 2]', 'invalid options'],
      ['null', 'invalid options'],
      ['"x"', 'invalid options'],
      ['{"args": {"x": 1}}', 'args must be an array'],
      ['{"kwargs": [1]}', 'kwargs must be an object'],
      ['{"kwargs": null}', 'kwargs must be an object'],
      ['{"kwargs": 5}', 'kwargs must be an object'],
      ['{"countdown": -1}', 'Invalid option'],
      ['{"countdown": "soon"}', 'Invalid option'],
      ['{"eta": "tomorrow"}', 'Invalid option'],
      ['{"eta": 5}', 'Invalid option'],
      ['{"expires": "never"}', 'Invalid option'],
    ] as const)
      expect(statusAndError(await s.post('/api/task/async-apply/t.add', body)), body).toEqual([400, error]);
    // Held by the worker until their ETA: the monitor shows the ETA and expiry each was sent with.
    const before = Date.now();
    const later = parsed(await s.post('/api/task/async-apply/t.add', { args: [1, 2], countdown: 60, expires: 120 }));
    const info = await infoWhen(s, later['task-id'] as string, 'RECEIVED');
    const eta = Date.parse(info['eta'] as string);
    expect(eta).toBeGreaterThanOrEqual(before + 60_000);
    expect(eta).toBeLessThan(Date.now() + 60_000);
    expect(Date.parse(info['expires'] as string) - eta).toBeGreaterThan(59_000);
    const dated = parsed(await s.post('/api/task/async-apply/t.add', { args: [1, 2], eta: '2031-01-02 03:04:05.678', expires: '2032-01-01T00:00:00Z' }));
    expect(await infoWhen(s, dated['task-id'] as string, 'RECEIVED')).toMatchObject({ eta: '2031-01-02T03:04:05.678Z', expires: '2032-01-01T00:00:00.000Z' });
    expect((await s.post('/api/task/async-apply/t.add', { args: [1, 2], countdown: 0 })).status).toBe(200);
    // A queue that is not a name is no queue: the task goes to the default one.
    const numbered = parsed(await s.post('/api/task/async-apply/t.add', { args: [1, 2], queue: 7 }));
    await infoWhen(s, numbered['task-id'] as string, 'SUCCESS');
    // A queue no worker consumes holds it.
    const elsewhere = `${s.app.conf.defaultQueue}-other`;
    expect((await s.post('/api/task/send-task/t.add', { args: [1, 2], queue: elsewhere, priority: 3 })).status).toBe(200);
    expect(await s.app.connection.queueSize(elsewhere)).toBe(1);
  });

  it('result, info, types and the list', async () => {
    const s = await setup();
    const id = parsed(await s.post('/api/task/async-apply/t.add', { args: [20, 22] }))['task-id'] as string;
    await infoWhen(s, id, 'SUCCESS');
    expect(parsed(await s.get(`/api/task/result/${id}`))).toEqual({ 'task-id': id, state: 'SUCCESS', result: 42 });
    const pending = randomUUID();
    expect(parsed(await s.get(`/api/task/result/${pending}`))).toEqual({ 'task-id': pending, state: 'PENDING', result: null });
    const waited = await s.get(`/api/task/result/${pending}?timeout=0.05`);
    expect(statusAndError(waited)).toEqual([500, `task ${pending} was not ready within 50 ms`]);
    expect(parsed(await s.get(`/api/task/info/${id}`))).toMatchObject({ uuid: id, 'task-id': id, state: 'SUCCESS' });
    expect(statusAndError(await s.get(`/api/task/info/${pending}`))).toEqual([404, `Unknown task '${pending}'`]);
    // An event of a task whose name the monitor never learnt adds no type.
    s.server.monitor.event({ type: 'task-succeeded', uuid: randomUUID(), hostname: s.hostname, timestamp: Date.now() / 1000 } as never);
    expect(parsed(await s.get('/api/task/types'))).toEqual({ 'task-types': ['t.add'] });
    expect(Object.keys(parsed(await s.get('/api/tasks?taskname=t.add')))).toEqual([id]);
    expect(Object.keys(parsed(await s.get('/api/tasks?taskname=t.other')))).toEqual([]);
  });

  it('revoke (terminate as asked) and abort', async () => {
    const s = await setup();
    const running = parsed(await s.post('/api/task/async-apply/t.sleep', { args: [10_000] }))['task-id'] as string;
    await infoWhen(s, running, 'STARTED');
    expect(parsed(await s.post(`/api/task/revoke/${running}?terminate=true`))).toEqual({ message: `Revoked '${running}'` });
    expect(parsed(await s.get(`/api/task/result/${running}`))).toMatchObject({ state: 'REVOKED', result: "TaskRevokedError('terminated')" });
    const left = parsed(await s.post('/api/task/async-apply/t.sleep', { args: [300] }))['task-id'] as string;
    await infoWhen(s, left, 'STARTED');
    await s.post(`/api/task/revoke/${left}`);
    // Revoked without terminate: the running task finishes.
    await infoWhen(s, left, 'SUCCESS');
    const aborted = randomUUID();
    expect(parsed(await s.post(`/api/task/abort/${aborted}`))).toEqual({ message: `Aborted '${aborted}'` });
    expect(parsed(await s.get(`/api/task/result/${aborted}`))).toMatchObject({ 'task-id': aborted, state: 'ABORTED' });
  });

  it('rate limits and time limits: the task known, the worker named, the arguments required', async () => {
    const s = await setup();
    const to = `workername=${s.w}`;
    expect(parsed(await s.post(`/api/task/rate-limit/t.add?ratelimit=10&${to}`))).toEqual({ message: 'new rate limit set successfully' });
    expect(parsed(await s.post(`/api/task/timeout/t.add?soft=1&hard=2&${to}`))).toEqual({ message: 'time limits set successfully' });
    // No worker named: every worker is asked, and the first reply answers.
    expect(parsed(await s.post('/api/task/rate-limit/t.add?ratelimit=5'))).toEqual({ message: 'new rate limit set successfully' });
    expect(statusAndError(await s.post(`/api/task/rate-limit/t.add?${to}`))).toEqual([400, 'Missing argument ratelimit']);
    expect(statusAndError(await s.post('/api/task/rate-limit/t.add?ratelimit=10&workername=nobody%40nowhere'))).toEqual([
      404,
      "Unknown worker 'nobody@nowhere'",
    ]);
    expect(statusAndError(await s.post(`/api/task/timeout/t.add?soft=1&workername=nobody%40nowhere`))).toEqual([404, "Unknown worker 'nobody@nowhere'"]);
    expect(statusAndError(await s.post(`/api/task/rate-limit/t.nope?ratelimit=10&${to}`))).toEqual([404, "Unknown task 't.nope'"]);
    expect(statusAndError(await s.post(`/api/task/timeout/t.nope?soft=1&${to}`))).toEqual([404, "Unknown task 't.nope'"]);
    expect(statusAndError(await s.post(`/api/task/timeout/t.add?soft=-1&${to}`))).toEqual([400, "Invalid argument '-1' of type 'float'"]);
  });

  it('a task only a worker registers is known; a worker that refuses answers 403 with its reason', async () => {
    const s = await setup();
    const client = new App({ broker: 'memory://', defaultQueue: s.app.conf.defaultQueue });
    closing.push(() => client.close());
    const server = await startFlower(client, { port: 0, unauthenticatedApi: true, inspectTimeout: 300 });
    closing.push(() => server.close());
    const at = (path: string): Promise<Answer> => ask(`${server.url}${path}`, { method: 'POST' });
    expect(parsed(await at(`/api/task/rate-limit/t.add?ratelimit=10&workername=${s.w}`))).toEqual({ message: 'new rate limit set successfully' });
    expect(statusAndError(await at(`/api/task/rate-limit/t.nope?ratelimit=10&workername=${s.w}`))).toEqual([404, "Unknown task 't.nope'"]);
    expect(statusAndError(await at(`/api/task/rate-limit/t.add?ratelimit=fast&workername=${s.w}`))).toEqual([
      403,
      expect.stringMatching(/^Failed to set rate limit: '.+'$/),
    ]);
  });
});

describe('flower API: workers (in-process)', () => {
  it('the workers’ details, one by name, their status; queue lengths', async () => {
    const s = await setup();
    const all = parsed(await s.get('/api/workers?refresh=true'));
    expect(Object.keys(all)).toEqual([s.hostname]);
    const one = parsed(await s.get(`/api/workers?workername=${s.w}`));
    expect(Object.keys(one)).toEqual([s.hostname]);
    expect((one[s.hostname] as { registered: string[] }).registered).toEqual(expect.arrayContaining(['t.add', 't.sleep']));
    expect(statusAndError(await s.get('/api/workers?workername=nobody%40nowhere'))).toEqual([404, "Unknown worker 'nobody@nowhere'"]);
    expect(parsed(await s.get('/api/workers?status=true'))).toEqual({ [s.hostname]: true });
    expect(parsed(await s.get('/api/queues/length'))).toEqual({ active_queues: [{ name: s.app.conf.defaultQueue, messages: 0 }] });
  });

  it('pool and consumer controls: sent to the worker named, their messages, refusals with the reason', async () => {
    const s = await setup();
    const pool = async (): Promise<unknown> =>
      (parsed(await s.get(`/api/workers?refresh=true&workername=${s.w}`))[s.hostname] as { stats: { pool: Record<string, unknown> } }).stats.pool[
        'max-concurrency'
      ];
    const before = (await pool()) as number;
    expect(parsed(await s.post(`/api/worker/pool/grow/${s.w}?n=2`))).toEqual({ message: `Growing '${s.hostname}' worker's pool by 2` });
    expect(await pool()).toBe(before + 2);
    expect(parsed(await s.post(`/api/worker/pool/shrink/${s.w}`))).toEqual({ message: `Shrinking '${s.hostname}' worker's pool by 1` });
    expect(await pool()).toBe(before + 1);
    expect(parsed(await s.post(`/api/worker/pool/grow/${s.w}`))).toEqual({ message: `Growing '${s.hostname}' worker's pool by 1` });
    expect(await pool()).toBe(before + 2);
    expect(statusAndError(await s.post(`/api/worker/pool/grow/${s.w}?n=two`))).toEqual([400, "Invalid argument 'two' of type 'int'"]);
    const extra = `${s.app.conf.defaultQueue}-extra`;
    expect(parsed(await s.post(`/api/worker/queue/add-consumer/${s.w}?queue=${extra}`))).toEqual({ message: `add consumer ${extra}` });
    await s.get('/api/workers?refresh=true');
    expect(parsed(await s.get('/api/queues/length'))).toEqual({
      active_queues: [
        { name: s.app.conf.defaultQueue, messages: 0 },
        { name: extra, messages: 0 },
      ],
    });
    expect(parsed(await s.post(`/api/worker/queue/cancel-consumer/${s.w}?queue=${extra}`))).toEqual({ message: `no longer consuming from ${extra}` });
    expect(statusAndError(await s.post(`/api/worker/queue/add-consumer/${s.w}`))).toEqual([400, 'Missing argument queue']);
    expect(statusAndError(await s.post(`/api/worker/queue/cancel-consumer/${s.w}`))).toEqual([400, 'Missing argument queue']);
    expect(statusAndError(await s.post(`/api/worker/pool/restart/${s.w}`))).toEqual([
      403,
      `Failed to restart the '${s.hostname}' pool: ValueError('Pool restarts not enabled')`,
    ]);
    expect(statusAndError(await s.post(`/api/worker/pool/autoscale/${s.w}?min=1&max=2`))).toEqual([
      403,
      `Failed to autoscale '${s.hostname}' worker: ValueError('Autoscale not enabled')`,
    ]);
    expect(statusAndError(await s.post(`/api/worker/pool/autoscale/${s.w}?min=1`))).toEqual([400, 'Missing argument max']);
    expect(statusAndError(await s.post(`/api/worker/pool/autoscale/${s.w}?max=1`))).toEqual([400, 'Missing argument min']);
    for (const path of ['pool/grow', 'pool/shrink', 'pool/restart', 'pool/autoscale', 'queue/add-consumer', 'queue/cancel-consumer', 'shutdown'])
      expect(statusAndError(await s.post(`/api/worker/${path}/nobody%40nowhere?queue=q&min=1&max=2`)), path).toEqual([404, "Unknown worker 'nobody@nowhere'"]);
  });

  it('shutdown stops the worker it names', async () => {
    const s = await setup();
    await s.get('/api/workers?refresh=true');
    expect(parsed(await s.post(`/api/worker/shutdown/${s.w}`))).toEqual({ message: 'Shutting down!' });
    await until(async () => (Object.keys(parsed(await s.get('/api/workers?refresh=true'))).length === 0 ? true : undefined), 5000);
  });

  it('a control goes to the worker named only', async () => {
    const s = await setup();
    const other = `other-${s.hostname}`;
    const second = s.app.worker({ hostname: other, sendEvents: true });
    await second.start();
    closing.push(() => second.stop());
    const details = async (name: string): Promise<{ stats: { pool: Record<string, unknown> }; active_queues: Array<{ name: string }> }> =>
      parsed(await s.get('/api/workers?refresh=true'))[name] as { stats: { pool: Record<string, unknown> }; active_queues: Array<{ name: string }> };
    const before = (await details(other)).stats.pool['max-concurrency'];
    await s.post(`/api/worker/pool/grow/${s.w}?n=3`);
    expect(parsed(await s.post(`/api/worker/pool/shrink/${s.w}?n=2`))).toEqual({ message: `Shrinking '${s.hostname}' worker's pool by 2` });
    expect((await details(other)).stats.pool['max-concurrency']).toBe(before);
    const extra = `${s.app.conf.defaultQueue}-extra`;
    await s.post(`/api/worker/queue/add-consumer/${s.w}?queue=${extra}`);
    expect((await details(s.hostname)).active_queues.map((q) => q.name)).toContain(extra);
    expect((await details(other)).active_queues.map((q) => q.name)).not.toContain(extra);
    await s.post(`/api/worker/shutdown/${s.w}`);
    await until(async () => {
      const names = Object.keys(parsed(await s.get('/api/workers?refresh=true')));
      return names.length === 1 ? names : undefined;
    }, 5000).then((names) => expect(names).toEqual([other]));
  });

  it('a worker that is gone: each control answers 403, no reply', async () => {
    const s = await setup();
    await s.get('/api/workers?refresh=true');
    // Stops the worker (setup's closers: the app, the worker, the server): the server still knows it.
    await closing.splice(1, 1)[0]!();
    for (const [path, failed] of [
      ['pool/grow', `Failed to grow '${s.hostname}' worker's pool: no reply from the worker`],
      ['pool/shrink', `Failed to shrink '${s.hostname}' worker's pool: no reply from the worker`],
      ['queue/add-consumer', `Failed to add 'q' consumer to '${s.hostname}' worker: no reply from the worker`],
      ['queue/cancel-consumer', `Failed to cancel 'q' consumer from '${s.hostname}' worker: no reply from the worker`],
    ])
      expect(statusAndError(await s.post(`/api/worker/${path}/${s.w}?queue=q`)), path).toEqual([403, failed]);
    expect(statusAndError(await s.post(`/api/task/timeout/t.add?soft=1&workername=${s.w}`))).toEqual([
      403,
      "Failed to set timeouts: 'no reply from the worker'",
    ]);
  });

  it('autoscale: the worker’s autoscaler takes the bounds given', async () => {
    const s = await setup({ worker: false });
    const worker = s.app.worker({ hostname: s.hostname, sendEvents: true, autoscale: { max: 4, min: 1 } });
    await worker.start();
    closing.push(() => worker.stop());
    await s.get('/api/workers?refresh=true');
    expect(parsed(await s.post(`/api/worker/pool/autoscale/${s.w}?min=2&max=6`))).toEqual({ message: `Autoscaling '${s.hostname}' worker (min=2, max=6)` });
    const pool = (parsed(await s.get(`/api/workers?refresh=true&workername=${s.w}`))[s.hostname] as { stats: { pool: Record<string, unknown> } }).stats.pool;
    // The pool starts at the new minimum.
    expect(pool['max-concurrency']).toBe(2);
  });
});

describe('flower API: routes (in-process)', () => {
  const CHANGES = [
    '/api/task/async-apply/t.add',
    '/api/task/send-task/t.add',
    '/api/task/apply/t.add',
    '/api/task/revoke/x',
    '/api/task/abort/x',
    '/api/task/rate-limit/t.add',
    '/api/task/timeout/t.add',
    '/api/worker/shutdown/w',
    '/api/worker/pool/restart/w',
    '/api/worker/pool/grow/w',
    '/api/worker/pool/shrink/w',
    '/api/worker/pool/autoscale/w',
    '/api/worker/queue/add-consumer/w',
    '/api/worker/queue/cancel-consumer/w',
  ];
  const READS = ['/api/tasks', '/api/task/types', '/api/task/info/x', '/api/task/result/x', '/api/queues/length', '/api/workers'];

  it('read-only mode refuses every route that sends or changes something', async () => {
    const s = await setup({ worker: false, readOnly: true });
    for (const path of CHANGES) expect(statusAndError(await s.post(path)), path).toEqual([403, 'Read only mode is enabled']);
  });

  it('each route matches its whole path, nothing before it and (but the workers’ names) nothing after', async () => {
    const s = await setup({ worker: false, readOnly: true });
    const notFound = [404, 'Not found'];
    for (const path of CHANGES) expect(statusAndError(await s.post(`/v1${path}`)), path).toEqual(notFound);
    for (const path of CHANGES.filter((p) => p.startsWith('/api/task/'))) expect(statusAndError(await s.post(`${path}/more`)), path).toEqual(notFound);
    for (const path of READS) {
      expect(statusAndError(await s.get(`/v1${path}`)), path).toEqual(notFound);
      expect(statusAndError(await s.get(`${path}/more`)), path).toEqual(notFound);
    }
  });
});
