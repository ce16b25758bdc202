/**
 * Events on the wire between nori processes: a worker with `sendEvents` sends Celery's task and
 * worker events on `celeryev`, a receiver (queue with TTL and expiry) gets them and the state
 * object follows them; off by default; task-sent from the client; on Redis nothing is stored.
 */
import { randomUUID } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { App, type AppOptions } from '@nori/tasks';
import { EventState, type CeleryEvent, type EventReceiver } from '@nori/tasks/events';
import { ALL_BROKERS, REDIS, waitFor } from './brokers.js';
import { EVENT_EXCHANGE } from './celery-names.js';
import { cleanup, testbed } from './testbed.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

const setup = (broker: string, options: AppOptions = {}): { app: App; queue: string } =>
  testbed(broker, { backend: 'memory://', heartbeatInterval: 300, ...options });

async function receive(app: App, events: CeleryEvent[]): Promise<EventReceiver> {
  const receiver = await app.events.receive({ '*': (e) => events.push(e) });
  cleanups.push(() => receiver.stop());
  return receiver;
}

for (const b of ALL_BROKERS) {
  describe(`events on ${b.name}`, () => {
    it('a worker with sendEvents sends task and worker events in Celery’s shape; the state follows them', async () => {
      const { app } = setup(b.broker, { sendEvents: true });
      const events: CeleryEvent[] = [];
      const state = new EventState();
      await app.events.receive({ '*': (e) => (events.push(e), state.event(e)) }).then((r) => cleanups.push(() => r.stop()));
      const add = app.task('ev.add', (x: number, y: number) => x + y);
      const fail = app.task('ev.fail', () => {
        throw new RangeError('too big');
      });
      const worker = app.worker({ concurrency: 2, hostname: `ev-${randomUUID().slice(0, 6)}@test` });
      cleanups.push(() => worker.stop());
      await worker.start();
      const ok = await add.delay(2, 3);
      const bad = await fail.delay();
      await ok.get({ timeout: 10_000 });
      await bad.get({ timeout: 10_000 }).catch(() => undefined);
      await waitFor('task events', () => state.task(ok.id)?.state === 'SUCCESS' && state.task(bad.id)?.state === 'FAILURE');
      await waitFor('two heartbeats', () => events.filter((e) => e.type === 'worker-heartbeat' && e.hostname === worker.hostname).length >= 2);

      const of = (id: string): string[] => events.filter((e) => e.uuid === id).map((e) => e.type);
      expect(of(ok.id)).toEqual(['task-received', 'task-started', 'task-succeeded']);
      expect(of(bad.id)).toEqual(['task-received', 'task-started', 'task-failed']);
      const received = events.find((e) => e.uuid === ok.id && e.type === 'task-received') as CeleryEvent;
      expect(received).toMatchObject({
        hostname: worker.hostname,
        name: 'ev.add',
        args: '(2, 3)',
        kwargs: '{}',
        retries: 0,
        root_id: ok.id,
        parent_id: null,
        eta: null,
        pid: process.pid,
      });
      expect(typeof received.clock).toBe('number');
      expect(Math.abs(received.timestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(events.find((e) => e.uuid === ok.id && e.type === 'task-succeeded')).toMatchObject({ result: '5', runtime: expect.any(Number) });
      expect(events.find((e) => e.uuid === bad.id && e.type === 'task-failed')).toMatchObject({
        exception: "RangeError('too big')",
        traceback: expect.stringContaining('too big'),
      });
      const online = events.find((e) => e.type === 'worker-online' && e.hostname === worker.hostname) as CeleryEvent;
      expect(online).toMatchObject({ freq: 0.3, sw_ident: 'nori', active: 0, processed: 0 });
      expect(events.filter((e) => e.type === 'worker-heartbeat' && e.hostname === worker.hostname).at(-1)).toMatchObject({
        processed: 2,
        loadavg: expect.any(Array),
      });

      expect(state.alive(worker.hostname)).toBe(true);
      expect(state.task(ok.id)).toMatchObject({ name: 'ev.add', hostname: worker.hostname, result: '5', args: '(2, 3)' });
      expect(state.task(ok.id)?.history.map((h) => h.state)).toEqual(['RECEIVED', 'STARTED', 'SUCCESS']);
      await worker.stop();
      await waitFor('worker-offline', () => events.some((e) => e.type === 'worker-offline' && e.hostname === worker.hostname));
      expect(state.alive(worker.hostname)).toBe(false);
    });

    it('task events leave in batches (full, or at the worker’s stop, before worker-offline): every event of every task arrives', async () => {
      // A window no test waits out: only a full batch (10 events) or the stop sends.
      const { app } = setup(b.broker, { sendEvents: true, eventBatchWindow: 60_000, eventBatchSize: 10 });
      const events: CeleryEvent[] = [];
      await receive(app, events);
      const add = app.task('ev.batched', (x: number, y: number) => x + y);
      const worker = app.worker({ concurrency: 2, heartbeat: false, hostname: `batch-${randomUUID().slice(0, 6)}@test` });
      cleanups.push(() => worker.stop());
      await worker.start();
      const results = [];
      for (let i = 0; i < 8; i++) results.push(await add.delay(i, 1));
      expect(await Promise.all(results.map((r) => r.get({ timeout: 10_000 })))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const ids = results.map((r) => r.id);
      const taskEvents = (): CeleryEvent[] => events.filter((e) => ids.includes(e.uuid as string));
      // 24 task events: two full batches of 10 leave, 4 wait for the window or the stop.
      await waitFor('two full batches', () => taskEvents().length >= 20);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(taskEvents()).toHaveLength(20);
      await worker.stop();
      await waitFor('worker-offline', () => events.some((e) => e.type === 'worker-offline' && e.hostname === worker.hostname));
      expect(taskEvents()).toHaveLength(24);
      for (const id of ids)
        expect(
          taskEvents()
            .filter((e) => e.uuid === id)
            .map((e) => e.type),
        ).toEqual(['task-received', 'task-started', 'task-succeeded']);
      const mine = events.filter((e) => e.hostname === worker.hostname).map((e) => e.type);
      expect(mine.at(-1)).toBe('worker-offline');
      expect(mine.filter((t) => t.startsWith('task-'))).toHaveLength(24);
      // Each batch's clock and timestamp are its events' own, in the order they happened.
      const clocks = taskEvents().map((e) => e.clock);
      expect(clocks).toEqual([...clocks].sort((x, y) => x - y));
    });

    it("heartbeat: false (Celery's --without-heartbeat) sends worker-online and task events but no heartbeat", async () => {
      const { app } = setup(b.broker, { sendEvents: true });
      const events: CeleryEvent[] = [];
      await receive(app, events);
      const add = app.task('ev.nobeat', (x: number, y: number) => x + y);
      const worker = app.worker({ heartbeat: false, hostname: `nobeat-${randomUUID().slice(0, 6)}@test` });
      cleanups.push(() => worker.stop());
      await worker.start();
      const r = await add.delay(1, 2);
      expect(await r.get({ timeout: 10_000 })).toBe(3);
      await waitFor('task-succeeded', () => events.some((e) => e.uuid === r.id && e.type === 'task-succeeded'));
      // Five heartbeat intervals (300 ms each in this setup) with none sent.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const mine = events.filter((e) => e.hostname === worker.hostname).map((e) => e.type);
      expect(mine).toContain('worker-online');
      expect(mine).not.toContain('worker-heartbeat');
    });

    it('sends nothing by default; task-sent only with sendTaskSentEvent', async () => {
      // Other tests' workers share the broker: only events from this test's nodes count.
      const nodes = [`quiet-${randomUUID().slice(0, 8)}@test`, `quiet-worker-${randomUUID().slice(0, 8)}@test`, `loud-${randomUUID().slice(0, 8)}@test`];
      const quiet = setup(b.broker, { hostname: nodes[0] });
      const loud = setup(b.broker, { sendTaskSentEvent: true, hostname: nodes[2] });
      const all: CeleryEvent[] = [];
      await receive(quiet.app, all);
      const ours = (): CeleryEvent[] => all.filter((e) => nodes.includes(e.hostname));
      const t = quiet.app.task('ev.quiet', () => 1);
      const worker = quiet.app.worker({ hostname: nodes[1] });
      cleanups.push(() => worker.stop());
      await worker.start();
      await (await t.delay()).get({ timeout: 10_000 });
      const sent = await loud.app.sendTask('ev.sent', [1, 'a'], { k: true }, { queue: loud.queue });
      await waitFor('task-sent', () => ours().some((e) => e.type === 'task-sent'));
      await new Promise((r) => setTimeout(r, 500));
      expect(ours().map((e) => e.type)).toEqual(['task-sent']);
      expect(ours()[0]).toMatchObject({
        uuid: sent.id,
        name: 'ev.sent',
        args: "(1, 'a')",
        kwargs: "{'k': True}",
        queue: loud.queue,
        routing_key: loud.queue,
        exchange: '',
        hostname: loud.app.hostname,
      });
    });
  });
}

describe('events on Redis are never stored', () => {
  it('the receiver queue stays empty: events travel over PUBLISH on /0.<event exchange>/<routing key>', async () => {
    const { app } = setup(REDIS, { hostname: `redis-events-${randomUUID().slice(0, 8)}@test` });
    const redis = new Redis(REDIS);
    cleanups.push(async () => void redis.disconnect());
    const channels: string[] = [];
    const sub = new Redis(REDIS);
    cleanups.push(async () => void sub.disconnect());
    await sub.psubscribe(`/0.${EVENT_EXCHANGE}/*`);
    sub.on('pmessage', (_p: string, channel: string) => channels.push(channel));
    const events: CeleryEvent[] = [];
    const receiver = await receive(app, events);
    for (let i = 0; i < 20; i++) await app.events.dispatcher.send('custom-thing', { i });
    const custom = (): CeleryEvent[] => events.filter((e) => e.type === 'custom-thing' && e.hostname === app.hostname);
    await waitFor('20 events', () => custom().length === 20);
    expect(custom().map((e) => e['i'])).toEqual([...Array(20).keys()]);
    expect(channels.filter((c) => c === `/0.${EVENT_EXCHANGE}/custom.thing`).length).toBeGreaterThanOrEqual(20);
    expect(await redis.exists(receiver.queue.name)).toBe(0);
  });
});

describe('task event batches on the wire (Redis)', () => {
  it('one PUBLISH on /0.<event exchange>/task.multi per batch, its body a zlib-compressed list of the events', async () => {
    const { app } = setup(REDIS, { sendEvents: true, eventBatchWindow: 60_000, eventBatchSize: 6 });
    const sub = new Redis(REDIS);
    cleanups.push(async () => void sub.disconnect());
    const published: Array<{ channel: string; text: string }> = [];
    await sub.psubscribe(`/0.${EVENT_EXCHANGE}/*`);
    sub.on('pmessage', (_p: string, channel: string, text: string) => published.push({ channel, text }));
    const add = app.task('ev.wire', (x: number, y: number) => x + y);
    const worker = app.worker({ heartbeat: false, hostname: `wire-${randomUUID().slice(0, 6)}@test` });
    cleanups.push(() => worker.stop());
    await worker.start();
    const first = await add.delay(1, 1);
    const second = await add.delay(2, 2);
    await first.get({ timeout: 10_000 });
    await second.get({ timeout: 10_000 });
    await waitFor('the batch', () => published.some((m) => m.channel.endsWith('/task.multi')));
    const batches = published.filter((m) => m.channel === `/0.${EVENT_EXCHANGE}/task.multi`);
    expect(batches).toHaveLength(1);
    expect(published.filter((m) => /\/task\.(received|started|succeeded)$/.test(m.channel))).toEqual([]);
    const envelope = JSON.parse((batches[0] as { text: string }).text) as { body: string; headers: Record<string, unknown>; 'content-type': string };
    expect(envelope.headers).toMatchObject({ compression: 'application/x-gzip', hostname: worker.hostname });
    expect(envelope['content-type']).toBe('application/json');
    const list = JSON.parse(inflateSync(Buffer.from(envelope.body, 'base64')).toString('utf8')) as CeleryEvent[];
    expect(list).toHaveLength(6);
    for (const id of [first.id, second.id])
      expect(list.filter((e) => e.uuid === id).map((e) => e.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
  });
});

describe('EventState', () => {
  it('keeps the most recently updated tasks up to maxTasks, and a late event does not undo a ready state', () => {
    const state = new EventState({ maxTasks: 3 });
    const e = (type: string, uuid: string, extra: Record<string, unknown> = {}): CeleryEvent => ({
      type,
      uuid,
      hostname: 'w@h',
      timestamp: Date.now() / 1000,
      utcoffset: 0,
      pid: 1,
      clock: 1,
      ...extra,
    });
    for (const id of ['a', 'b', 'c', 'd']) state.event(e('task-received', id, { name: `t.${id}` }));
    state.event(e('task-succeeded', 'b', { result: '1' }));
    state.event(e('task-received', 'e'));
    expect([...state.tasks.keys()]).toEqual(['d', 'b', 'e']);
    state.event(e('task-started', 'b'));
    expect(state.task('b')?.state).toBe('SUCCESS');
    expect(state.task('b')?.history.map((h) => h.type)).toEqual(['task-received', 'task-succeeded', 'task-started']);
  });
});
