/**
 * The message on the wire is Celery protocol v2 exactly (as_task_v2's headers, properties and
 * body), and the worker reads protocol v1 bodies as Celery 5 does.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { App } from '@nori/tasks';
import { parseTaskMessage } from '@nori/tasks/protocol';

it('sends protocol v2: headers, properties, [args, kwargs, embed] and the default routing', async () => {
  const queue = `proto-${randomUUID().slice(0, 8)}`;
  const app = new App({ broker: 'memory://', defaultQueue: queue, hostname: 'gen1@host' });
  const add = app.task('proj.add', (x: number, y: number) => x + y);
  const eta = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
  const r = await add.applyAsync(
    [2, 3],
    { debug: true },
    { eta, expires: new Date(Date.UTC(2030, 0, 3)), timeLimit: 30_000, softTimeLimit: 10_500, priority: 3, headers: { tenant: 'x' } },
  );
  const conn = new Connection('memory://');
  const withEta = await conn.simpleQueue(queue).get({ timeout: 2000 });
  expect(withEta.headers).toMatchObject({
    eta: '2030-01-02T03:04:05.678000+00:00',
    expires: '2030-01-03T00:00:00.000000+00:00',
    timelimit: [30, 10.5],
    tenant: 'x',
  });
  await withEta.ack();
  // @ts-expect-error -- args are typed from the handler's parameters
  const mistyped = (): unknown => add.delay('2', 3);
  expect(typeof mistyped).toBe('function');
  const now = await app.sendTask('proj.add', [1, 'a'], {}, { taskId: 'fixed-id', link: add.s([10]), linkError: add.si([0, 0]) });
  expect(now.id).toBe('fixed-id');
  const m = await conn.simpleQueue(queue).get({ timeout: 2000 });
  expect(m.headers).toEqual({
    lang: 'py',
    task: 'proj.add',
    id: 'fixed-id',
    shadow: null,
    eta: null,
    expires: null,
    group: null,
    group_index: null,
    retries: 0,
    timelimit: [null, null],
    root_id: 'fixed-id',
    parent_id: null,
    argsrepr: "(1, 'a')",
    kwargsrepr: '{}',
    origin: 'gen1@host',
    ignore_result: false,
  });
  expect(m.properties).toMatchObject({ correlationId: 'fixed-id', replyTo: app.oid, deliveryMode: 2 });
  expect(m.contentType).toBe('application/json');
  expect(m.deliveryInfo).toMatchObject({ exchange: '', routingKey: queue });
  expect(m.body).toEqual([
    [1, 'a'],
    {},
    {
      // Callbacks carry the caller's reply queue, so an rpc:// result of theirs comes back here (#22.8).
      callbacks: [{ task: 'proj.add', args: [10], kwargs: {}, options: { reply_to: app.oid }, subtask_type: null, immutable: false, chord_size: null }],
      errbacks: [{ task: 'proj.add', args: [0, 0], kwargs: {}, options: { reply_to: app.oid }, subtask_type: null, immutable: true, chord_size: null }],
      chain: null,
      chord: null,
    },
  ]);
  await m.ack();
  expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
  await conn.purge(queue);
  await conn.close();
  await app.close();
});

it('writes eta/expires as Python isoformat in the app timezone and limits in seconds, hard first', async () => {
  const queue = `proto-${randomUUID().slice(0, 8)}`;
  const app = new App({ broker: 'memory://', defaultQueue: queue, timezone: 'Asia/Kolkata' });
  const conn = new Connection('memory://');
  const seen: Record<string, unknown>[] = [];
  const consumer = conn.consumer([queue], async (m) => {
    seen.push(m.headers);
    await m.ack();
  });
  await consumer.start();
  await app.sendTask('proj.x', [], {}, { countdown: 200, expires: 60_000, timeLimit: 30_000, softTimeLimit: 10_500 });
  await expect.poll(() => seen.length, { timeout: 5000 }).toBe(1);
  const h = seen[0] as Record<string, string>;
  expect(h['eta']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+05:30$/);
  expect(h['expires']).toMatch(/\+05:30$/);
  expect(Date.parse(h['expires'] as string) - Date.parse(h['eta'] as string)).toBeGreaterThan(59_000);
  expect(h['timelimit']).toEqual([30, 10.5]);
  await consumer.stop();
  await conn.close();
  await app.close();
});

it('reads a protocol v1 body as Celery 5 does', () => {
  const request = parseTaskMessage(
    {},
    {
      task: 'proj.add',
      id: 'abc',
      args: [1, 2],
      kwargs: { z: 1 },
      retries: 2,
      eta: '2030-01-01T00:00:00',
      expires: null,
      utc: true,
      callbacks: null,
      errbacks: null,
      timelimit: [10, 5],
      taskset: 'g1',
      chord: null,
    },
    { replyTo: 'r', correlationId: 'abc' },
  );
  expect(request).toMatchObject({
    protocol: 1,
    id: 'abc',
    name: 'proj.add',
    args: [1, 2],
    kwargs: { z: 1 },
    retries: 2,
    group: 'g1',
    rootId: 'abc',
    timeLimit: 10_000,
    softTimeLimit: 5000,
    replyTo: 'r',
    argsrepr: '(1, 2)',
    kwargsrepr: "{'z': 1}",
  });
  // A naive eta is UTC.
  expect(request.eta?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
});

it('refuses a message that is neither protocol', () => {
  expect(() => parseTaskMessage({}, [1, 2], {})).toThrow(/not a Celery task message/);
  expect(() => parseTaskMessage({ task: 't', id: 'x' }, { a: 1 }, {})).toThrow(/\[args, kwargs, embed\]/);
});
