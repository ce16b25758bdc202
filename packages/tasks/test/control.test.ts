/**
 * Remote control between nori processes over the mailbox (`<ns>.pidbox` fanout, replies on
 * `reply.<ns>.pidbox`, the file's own namespace): inspect a worker, revoke queued and running tasks, change limits, pool
 * size and queues at run time, and revoked ids kept across a restart with a state file.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname as osHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { currentTask, TaskRevokedError } from '@nori/tasks';
import { EventState } from '@nori/tasks/events';
import { ALL_BROKERS, REDIS, waitFor } from './brokers.js';
import { CONTROL_EXCHANGE } from './celery-names.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const node = (): string => `nori-${randomUUID().slice(0, 8)}@control`;

for (const b of ALL_BROKERS) {
  describe(`remote control on ${b.name}`, () => {
    it('inspects a worker, revokes a queued task and terminates a running one', async () => {
      const { app, queue, worker: start } = testbed(b.broker, { backend: 'memory://' });
      let ran = 0;
      const started: string[] = [];
      const slow = app.task('ctl.slow', async (ms: number) => {
        const { id, signal } = currentTask();
        started.push(id);
        ran++;
        await new Promise((resolve, reject) => {
          const t = setTimeout(resolve, ms);
          signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)));
        });
        return ms;
      });
      app.task('ctl.other', () => 1, { rateLimit: '10/s' });
      const hostname = node();
      const worker = await start({ hostname, concurrency: 1, prefetchMultiplier: 4 });

      const pong = await app.control.ping({ destination: [hostname], timeout: 5000 });
      expect(pong).toEqual({ [hostname]: { ok: 'pong' } });
      expect(await app.control.ping({ destination: ['nobody@nowhere'], timeout: 300 })).toBeNull();

      const running = await slow.delay(60_000);
      const queued = await slow.delay(10);
      await waitFor('the first task to start', () => started.length === 1);
      await waitFor(
        'the second to be reserved',
        async () => ((await app.control.inspect({ destination: [hostname] }).reserved())?.[hostname]?.length ?? 0) === 1,
      );
      const i = app.control.inspect({ destination: [hostname], timeout: 5000 });
      const active = (await i.active())?.[hostname] as Array<Record<string, unknown>>;
      expect(active).toEqual([
        expect.objectContaining({ id: running.id, name: 'ctl.slow', args: [60_000], hostname, worker_pid: process.pid, time_start: expect.any(Number) }),
      ]);
      expect((await i.reserved())?.[hostname]).toEqual([expect.objectContaining({ id: queued.id, time_start: null })]);
      expect((await i.registered())?.[hostname]).toEqual(['ctl.other [rate_limit=10/s]', 'ctl.slow']);
      expect((await i.activeQueues())?.[hostname]).toEqual([expect.objectContaining({ name: queue, durable: true })]);
      expect((await i.stats())?.[hostname]).toMatchObject({ pid: process.pid, total: { 'ctl.slow': 1 }, pool: { 'max-concurrency': 1 }, prefetch_count: 4 });
      expect((await i.conf())?.[hostname]).toMatchObject({ task_default_queue: queue, accept_content: ['json'] });
      expect((await i.queryTask(running.id, queued.id))?.[hostname]).toEqual({
        [running.id]: ['active', expect.any(Object)],
        [queued.id]: ['reserved', expect.any(Object)],
      });

      // Revoked while reserved: never runs, stored REVOKED.
      expect(await app.control.revoke(queued.id, { destination: [hostname] })).toEqual({ [hostname]: { ok: `tasks ${queued.id} flagged as revoked` } });
      // Terminated while running: its signal aborts, it is stored REVOKED and the slot frees.
      expect(await app.control.revoke(running.id, { terminate: true, destination: [hostname] })).toEqual({ [hostname]: { ok: `terminate: ${running.id}` } });
      await expect(running.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskRevokedError);
      await expect(queued.get({ timeout: 10_000 })).rejects.toMatchObject({ excMessage: ['revoked'] });
      expect(ran).toBe(1);
      expect((await i.revoked())?.[hostname]).toEqual(expect.arrayContaining([queued.id, running.id]));
      expect((await i.active())?.[hostname]).toEqual([]);
      expect(worker.revoked.has(queued.id)).toBe(true);
    });
  });
}

describe('remote control: changes at run time (Redis)', () => {
  it('rate_limit, time_limit, pool_grow/shrink, add_consumer/cancel_consumer, pattern matching', async () => {
    const { app, worker: start } = testbed(REDIS, { backend: 'memory://' });
    const extra = `ctl-extra-${randomUUID().slice(0, 8)}`;
    const t = app.task('ctl.t', () => 'done');
    const hostname = node();
    const worker = await start({ hostname, concurrency: 2 });
    const opts = { destination: [hostname], timeout: 5000 };
    expect(await app.control.rateLimit('ctl.t', '5/m', opts)).toEqual({ [hostname]: { ok: 'new rate limit set successfully' } });
    expect(t.policy.rateLimit).toBeCloseTo(5 / 60);
    expect(await app.control.rateLimit('ctl.nope', '5/m', opts)).toEqual({ [hostname]: { error: 'unknown task' } });
    expect(await app.control.rateLimit('ctl.t', null, opts)).toEqual({ [hostname]: { ok: 'rate limit disabled successfully' } });
    expect(await app.control.timeLimit('ctl.t', { soft: 1500, hard: 3000 }, opts)).toEqual({ [hostname]: { ok: 'time limits set successfully' } });
    expect([t.policy.softTimeLimit, t.policy.timeLimit]).toEqual([1500, 3000]);
    await app.control.poolGrow(3, opts);
    expect(worker.concurrency).toBe(5);
    await app.control.poolShrink(4, opts);
    expect(worker.concurrency).toBe(1);

    expect(await app.control.addConsumer(extra, opts)).toEqual({ [hostname]: { ok: `add consumer ${extra}` } });
    const r = await t.applyAsync([], {}, { queue: extra });
    expect(await r.get({ timeout: 10_000 })).toBe('done');
    const names = async (): Promise<unknown> => ((await app.control.inspect(opts).activeQueues())?.[hostname] as Array<{ name: string }>).map((q) => q.name);
    expect(await names()).toEqual([app.conf.defaultQueue, extra]);
    await app.control.cancelConsumer(extra, opts);
    expect(await names()).toEqual([app.conf.defaultQueue]);
    const parked = await t.applyAsync([], {}, { queue: extra });
    await sleep(500);
    expect(await app.connection.queueSize(extra)).toBe(1);
    await app.connection.deleteQueue(extra);
    // Celery binds a queue it creates to an exchange of the queue's name.
    await app.connection.deleteExchange(extra);
    void parked;

    expect(await app.control.ping({ pattern: 'nori-*@control', timeout: 1000 })).toMatchObject({ [hostname]: { ok: 'pong' } });
    expect(await app.control.ping({ pattern: '^nori-[0-9a-f]+@control$', matcher: 'pcre', timeout: 1000 })).toMatchObject({ [hostname]: { ok: 'pong' } });
    expect(await app.control.ping({ pattern: 'other-*', timeout: 500 })).toBeNull();

    // A stopped worker leaves no binding of its node queue behind on Redis.
    const redis = new Redis(REDIS);
    const mailbox = `${CONTROL_EXCHANGE}.pidbox`;
    const bound = async (): Promise<boolean> => (await redis.smembers(`_kombu.binding.${mailbox}`)).some((m) => m.endsWith(`${hostname}.${mailbox}`));
    expect(await bound()).toBe(true);
    await worker.stop();
    expect(await bound()).toBe(false);
    redis.disconnect();
  });

  it('AsyncResult.revoke() goes through remote control; revoked ids survive a restart with a state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nori-statedb-'));
    const stateFile = join(dir, 'worker.state');
    try {
      const { app, worker: start } = testbed(REDIS, { backend: 'memory://' });
      let ran = 0;
      const t = app.task('ctl.once', () => ++ran);
      const hostname = node();
      // A 1 s hold horizon: the 3 s countdown is parked.
      const first = await start({ hostname, stateFile, etaHoldMax: 1000 });
      const r = await t.applyAsync([], {}, { countdown: 3000 });
      // Parked in the broker to wait for its ETA: neither reserved nor scheduled here.
      const seen = new Promise((resolve) => first.once('task-parked', resolve));
      await seen;
      const i = app.control.inspect({ destination: [hostname], timeout: 3000 });
      expect([(await i.reserved())?.[hostname], (await i.scheduled())?.[hostname]]).toEqual([[], []]);
      await r.revoke();
      await waitFor('the revoke to reach the worker', () => first.revoked.has(r.id));
      await first.stop();
      expect(JSON.parse(await readFile(stateFile, 'utf8'))).toMatchObject({ revoked: { [r.id]: expect.any(Number) } });
      // A new worker process would read the file: the ETA task it gets is revoked, not run.
      const second = await start({ hostname, stateFile });
      expect(second.revoked.has(r.id)).toBe(true);
      await expect(r.get({ timeout: 15_000 })).rejects.toBeInstanceOf(TaskRevokedError);
      expect(ran).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The process warnings emitted from now until `stop()`. */
function captureWarnings(): { warnings: Error[]; stop: () => void } {
  const warnings: Error[] = [];
  const on = (w: Error): void => void warnings.push(w);
  process.on('warning', on);
  return { warnings, stop: () => void process.off('warning', on) };
}
const duplicateWarnings = (warnings: Error[], name: string): string[] =>
  warnings.filter((w) => w.name === 'DuplicateNodenameWarning' && w.message.includes(name)).map((w) => w.message);

describe('remote control: node names (Redis)', () => {
  it("a worker is nori-<pid>@<host> unless named (Celery's celery@<host> would share a Python worker's mailbox)", async () => {
    const { app, worker: start } = testbed(REDIS, { backend: 'memory://' });
    const worker = await start();
    const name = `nori-${process.pid}@${osHostname()}`;
    expect(worker.hostname).toBe(name);
    expect(await app.control.ping({ destination: [name], timeout: 5000 })).toEqual({ [name]: { ok: 'pong' } });
  });

  it('two workers under one name are warned about as Celery warns (DuplicateNodenameWarning): replies, events', async () => {
    const capture = captureWarnings();
    try {
      const { app, worker: start } = testbed(REDIS, { backend: 'memory://' });
      const name = node();
      await start({ hostname: name });
      await start({ hostname: name });
      // Redis's fanout reaches both readers of the one node queue: two replies from one name.
      expect(await app.control.ping({ timeout: 1000 })).toEqual({ [name]: { ok: 'pong' } });
      await waitFor('the warning', () => duplicateWarnings(capture.warnings, name).length > 0);
      expect(duplicateWarnings(capture.warnings, name)).toEqual([expect.stringMatching(new RegExp(`^Received multiple replies from node name: ${name}\\.`))]);

      // A monitor sees heartbeats of one name from pids A, B, A; a restart (A, A, B, B) is not warned about.
      const state = new EventState();
      const beat = (hostname: string, pid: number): void =>
        state.event({ type: 'worker-heartbeat', hostname, pid, freq: 2, timestamp: Date.now() / 1000, utcoffset: 0, clock: 1 });
      const restarted = node();
      for (const pid of [1, 1, 2, 2]) beat(restarted, pid);
      const shared = node();
      for (const pid of [1, 2, 1]) beat(shared, pid);
      await waitFor('the warning', () => duplicateWarnings(capture.warnings, shared).length > 0);
      expect(duplicateWarnings(capture.warnings, shared)).toEqual([`Events from two processes (pids 2 and 1) under node name: ${shared}.\n${HINT}`]);
      expect(duplicateWarnings(capture.warnings, restarted)).toEqual([]);
    } finally {
      capture.stop();
    }
  });
});
const HINT = 'Please make sure you give each node a unique nodename using the worker `-n` option (`hostname`).';

describe("remote control: the rest of Celery's panel (Redis)", () => {
  it("hello (mingle) swaps revoked ids and the clock in Celery's shape; autoscale, pool_restart, report, election and unknown commands are answered", async () => {
    const capture = captureWarnings();
    try {
      const { app, worker: start } = testbed(REDIS, { backend: 'memory://' });
      const hostname = node();
      const worker = await start({ hostname, concurrency: 1 });
      const scaled = node();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const block = app.task('ctl.block', () => gate);
      const elastic = await start({ hostname: scaled, autoscale: { max: 3, min: 1, interval: 50 } });
      const to = (name: string): { destination: string[]; timeout: number } => ({ destination: [name], timeout: 5000 });

      worker.revoked.add('revoked-here');
      // What Celery's mingle sends: its LimitedSet._data, {id: [time.monotonic() when revoked, id]}.
      const monotonic = Number(process.hrtime.bigint()) / 1e9;
      const reply = (
        await app.control.request('hello', { from_node: 'py@peer', revoked: { 'revoked-there': [monotonic - 60, 'revoked-there'] } }, to(hostname))
      )?.[hostname] as { revoked: Record<string, [number, string]>; clock: number };
      expect(Object.keys(reply)).toEqual(['revoked', 'clock']);
      expect(reply.clock).toEqual(expect.any(Number));
      expect(Object.keys(reply.revoked)).toEqual(['revoked-there', 'revoked-here']);
      expect(reply.revoked['revoked-there']).toEqual([expect.closeTo(monotonic - 60, 1), 'revoked-there']);
      expect(reply.revoked['revoked-here']![1]).toBe('revoked-here');
      expect(Number.isInteger(reply.revoked['revoked-here']![0])).toBe(false);
      expect(worker.revoked.has('revoked-there')).toBe(true);
      // A hello under this worker's own name is another worker taking it: no sync, a warning.
      expect(await app.control.request('hello', { from_node: hostname, revoked: {} }, to(hostname))).toEqual({ [hostname]: null });
      await waitFor('the warning', () => duplicateWarnings(capture.warnings, hostname).length > 0);
      expect(duplicateWarnings(capture.warnings, hostname)).toEqual([`Another worker started as node name: ${hostname}.\n${HINT}`]);

      expect(await app.control.request('autoscale', { max: 4, min: 2 }, to(hostname))).toEqual({
        [hostname]: { error: "ValueError('Autoscale not enabled')" },
      });
      expect(await app.control.request('pool_restart', { reload: false }, to(hostname))).toEqual({
        [hostname]: { error: "ValueError('Pool restarts not enabled')" },
      });
      expect(await app.control.request('election', { id: 'e1', topic: 'topic', action: null }, to(hostname))).toEqual({ [hostname]: null });
      expect(await app.control.request('no_such_thing', {}, to(hostname))).toEqual({ [hostname]: { error: "KeyError('no_such_thing')" } });
      const report = ((await app.control.inspect(to(hostname)).report())?.[hostname] as { ok: string }).ok;
      expect(report.split('\n').slice(0, 3)).toEqual([
        expect.stringMatching(/^software -> nori:\S+ node:v\d+/),
        expect.stringMatching(/^platform -> system:\S+ arch:\S+ kernel version:\S+/),
        'settings -> transport:redis results:memory://',
      ]);

      // The autoscaler grows while every slot is busy, up to max; autoscale moves its bounds.
      await worker.stop(); // it reads the same queue
      expect(elastic.concurrency).toBe(1);
      expect(elastic.prefetch).toBe(12);
      const held = await Promise.all([1, 2, 3, 4].map(() => block.delay()));
      await waitFor('the pool to grow to 3', () => elastic.concurrency === 3 && elastic.active === 3);
      expect(await app.control.autoscale(2, 1, to(scaled))).toEqual({ [scaled]: { ok: 'autoscale now max=2 min=1' } });
      expect([elastic.concurrency, elastic.autoscaler?.max]).toEqual([2, 2]);
      release();
      for (const r of held) await r.get({ timeout: 10_000 });
      // Idle: back down to min, one slot every 5 ticks.
      await waitFor('the pool to shrink to 1', () => elastic.concurrency === 1);
    } finally {
      capture.stop();
    }
  });
});
