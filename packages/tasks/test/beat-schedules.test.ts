/**
 * Schedules changed at run time (issue 27 item 5), from code, on the Redis store and the file
 * store: while a beat leads, another handle on the same store adds, changes (a code entry
 * replaced), disables, enables and removes entries; each is picked up by the leader within one
 * tick (its `interval`), the ticks follow, `list()` shows code and stored entries with their last
 * runs, and `changes()` logs each change. Stored entries survive the beat (a new one runs them).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { every, TaskConfigError, type Beat, type BeatOptions, type Schedule, type TickInfo } from '@nori/tasks';
import { Redis } from 'ioredis';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
const redis = new Redis(REDIS);
beforeAll(startServer);
afterAll(async () => {
  redis.disconnect();
  await stopServer();
});

/** The beat store of each kind: Redis (the broker's), MongoDB (as when it is the result backend), a file. */
async function storeOf(kind: 'redis' | 'mongodb' | 'file'): Promise<{ store: Pick<BeatOptions, 'store'>; done: () => Promise<void> }> {
  if (kind === 'redis') return { store: {}, done: async () => undefined };
  if (kind === 'mongodb') return { store: { store: mongoUrl }, done: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'nori-beat-'));
  return { store: { store: { file: join(dir, 'beat.json') } }, done: () => rm(dir, { recursive: true, force: true }) };
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const INTERVAL = 100;

interface Watch {
  ticks: Array<TickInfo & { at: number }>;
  /** When the leader loaded each version, with its entries. */
  loads: Array<{ at: number; version: number; entries: readonly string[] }>;
}

function watch(beat: Beat): Watch {
  const w: Watch = { ticks: [], loads: [] };
  beat.on('tick-sent', (t) => w.ticks.push({ ...t, at: Date.now() }));
  beat.on('schedules', (s) => w.loads.push({ at: Date.now(), ...s }));
  return w;
}

/** Makes a change, and resolves with how long the leader took to load it (ms). */
async function change(w: Watch, run: () => Promise<unknown>): Promise<number> {
  const before = w.loads.length;
  const start = Date.now();
  await run();
  const done = Date.now();
  await waitFor('the leader to load the change', () => w.loads.length > before, 5000);
  const loaded = w.loads[before] as { at: number };
  expect(loaded.at).toBeGreaterThanOrEqual(start);
  return loaded.at - done;
}

for (const kind of ['redis', 'mongodb', 'file'] as const) {
  describe(`stored beat entries (${kind} store)`, () => {
    it('added, changed, disabled, enabled and removed while a beat leads: each loaded within one tick, listed and logged', async () => {
      const { app } = testbed(REDIS);
      const name = `beat-stored-${randomUUID().slice(0, 8)}`;
      const { store, done } = await storeOf(kind);
      const runner = app.beat({ name, interval: INTERVAL, lockTtl: 1000, ...store, schedule: { code: { task: 'b.code', schedule: every(300) } } });
      const admin = app.beat({ name, ...store });
      const w = watch(runner);
      runner.start();
      try {
        await waitFor('the runner to lead', () => runner.leading && w.loads.length === 1);
        expect(w.loads[0]?.entries).toEqual(['code']);
        const delays: number[] = [];
        const since = (at: number, entry: string) => w.ticks.filter((t) => t.entry === entry && t.due.getTime() > at);

        // Added: loaded within one tick, then ticking every 300 ms.
        delays.push(await change(w, () => admin.schedules.upsert('stored', { task: 'b.stored', schedule: every(300), args: [1] })));
        await waitFor('ticks of the stored entry', () => w.ticks.filter((t) => t.entry === 'stored').length >= 2, 5000);
        expect(w.ticks.filter((t) => t.entry === 'stored').every((t) => t.task === 'b.stored')).toBe(true);

        // A code entry turned off sends nothing after the change is loaded; a stored one replaces a code one.
        delays.push(await change(w, () => admin.schedules.disable('code')));
        const disabledAt = w.loads.at(-1)?.at as number;
        delays.push(await change(w, () => admin.schedules.upsert('code', { task: 'b.replaced', schedule: every(300) })));
        await sleep(700);
        expect(since(disabledAt, 'code')).toEqual([]);
        let list = await admin.schedules.list();
        expect(list.map((i) => [i.name, i.source, i.overrides, i.task, i.enabled])).toEqual([
          ['code', 'stored', true, 'b.replaced', false],
          ['stored', 'stored', false, 'b.stored', true],
        ]);
        delays.push(await change(w, () => admin.schedules.enable('code')));
        const enabledAt = w.loads.at(-1)?.at as number;
        await waitFor('the replacement to tick', () => since(enabledAt, 'code').length >= 1, 5000);
        expect(since(enabledAt, 'code').every((t) => t.task === 'b.replaced')).toBe(true);

        // Removing the stored one brings the code one back; removing the other stops it.
        delays.push(await change(w, () => admin.schedules.remove('code')));
        const restoredAt = w.loads.at(-1)?.at as number;
        await waitFor('the code entry to tick again', () => since(restoredAt, 'code').some((t) => t.task === 'b.code'), 5000);
        delays.push(await change(w, () => admin.schedules.remove('stored')));
        const removedAt = w.loads.at(-1)?.at as number;
        await sleep(700);
        expect(since(removedAt, 'stored')).toEqual([]);

        // Each change loaded within one tick (the check interval; the loop's own work aside).
        expect(delays.every((d) => d <= INTERVAL + 150)).toBe(true);
        // Stopped first: a running leader may have stored a tick's lastRun before its tick-sent event.
        await runner.stop();
        list = await admin.schedules.list();
        expect(list.map((i) => [i.name, i.source, i.task, i.schedule])).toEqual([['code', 'code', 'b.code', 'every 300 ms']]);
        expect(list[0]?.lastRun?.getTime()).toBe(Math.max(...w.ticks.filter((t) => t.entry === 'code').map((t) => t.due.getTime())));
        expect((list[0]?.nextRun?.getTime() ?? 0) - (list[0]?.lastRun?.getTime() ?? 0)).toBe(300);
        const changes = await admin.schedules.changes();
        expect(changes.map((c) => [c.op, c.entry])).toEqual([
          ['remove', 'stored'],
          ['remove', 'code'],
          ['enable', 'code'],
          ['upsert', 'code'],
          ['disable', 'code'],
          ['upsert', 'stored'],
        ]);
        expect(changes[5]).toMatchObject({ schedule: 'every 300 ms', by: expect.stringMatching(/:\d+$/) as string });

        // What cannot be stored, and what is not there.
        const own: Schedule = { next: (t) => t + 1000, anchor: 'now', description: 'my own' };
        await expect(admin.schedules.upsert('own', { task: 't', schedule: own })).rejects.toBeInstanceOf(TaskConfigError);
        await expect(admin.schedules.upsert('dated', { task: 't', schedule: every(1000), args: [new Date()] })).rejects.toThrow(/plain JSON/);
        await expect(admin.schedules.upsert('with-id', { task: 't', schedule: every(1000), options: { taskId: 'x' } })).rejects.toThrow(/taskId/);
        expect(await admin.schedules.remove('nope')).toBe(false);
        expect(await admin.schedules.enable('nope')).toBe(false);
        console.info(`${kind}: changes loaded by the leader ${delays.join(', ')} ms after they were stored (interval ${INTERVAL} ms)`);
      } finally {
        await runner.stop();
        await admin.clear();
        await admin.stop();
        await done();
      }
    }, 60_000);

    it('stored entries survive: a beat started later runs them, and one that is not readable is reported and skipped', async () => {
      const { app, queue } = testbed(REDIS);
      const name = `beat-stored-${randomUUID().slice(0, 8)}`;
      const { store, done } = await storeOf(kind);
      const admin = app.beat({ name, ...store });
      await admin.schedules.upsert('later', { task: 'b.later', schedule: every(200), kwargs: { a: 1 }, options: { queue, priority: 3 } });
      await admin.schedules.upsert('off', { task: 'b.off', schedule: every(200), enabled: false });
      // Written by something else: a schedule nori does not know.
      if (kind === 'redis') await redis.hset(`nori-beat:${name}:entries`, 'odd', JSON.stringify({ task: 'b.odd', schedule: { hourly: 1 }, updatedAt: 0 }));
      const runner = app.beat({ name, interval: INTERVAL, lockTtl: 1000, ...store });
      const w = watch(runner);
      const errors: Error[] = [];
      runner.on('error', (e) => errors.push(e));
      runner.start();
      try {
        await waitFor('ticks', () => w.ticks.length >= 2, 5000);
        expect(w.loads[0]?.entries).toEqual(['later']);
        expect(new Set(w.ticks.map((t) => t.entry))).toEqual(new Set(['later']));
        const list = await admin.schedules.list();
        expect(list.find((i) => i.name === 'later')).toMatchObject({ kwargs: { a: 1 }, enabled: true, spec: { every: 200 } });
        expect(list.find((i) => i.name === 'off')).toMatchObject({ enabled: false, lastRun: null });
        if (kind === 'redis') {
          expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('stored beat entry "odd" is not run: not a schedule')]);
          expect(list.find((i) => i.name === 'odd')?.schedule).toBe('unreadable {"hourly":1}');
        }
      } finally {
        await runner.stop();
        await admin.clear();
        await admin.stop();
        await done();
      }
    }, 30_000);
  });
}

it('file store: changes from two processes at once are all kept (each is read, changed and written under the mutex)', async () => {
  const { app } = testbed(REDIS);
  const dir = await mkdtemp(join(tmpdir(), 'nori-beat-'));
  const store = { store: { file: join(dir, 'beat.json') } };
  const [a, b] = [app.beat({ name: 'x', ...store }), app.beat({ name: 'x', ...store })];
  try {
    const names = Array.from({ length: 40 }, (_, i) => `e${i}`);
    await Promise.all(names.map((n, i) => (i % 2 === 0 ? a : b).schedules.upsert(n, { task: 't', schedule: every(1000 + i) })));
    const list = await a.schedules.list();
    expect(list.map((i) => i.name).sort()).toEqual([...names].sort());
    expect(await b.schedules.changes(100)).toHaveLength(40);
  } finally {
    await a.stop();
    await b.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

it('mongodb store: a lapsed lock is taken over; of two beats one leads, and a stop hands over with no tick lost or sent twice', async () => {
  const { app } = testbed(REDIS);
  const name = `beat-mongo-${randomUUID().slice(0, 8)}`;
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(mongoUrl);
  const options = {
    name,
    interval: INTERVAL,
    lockTtl: 600,
    store: mongoUrl,
    schedule: { tick: { task: 'b.tick', schedule: every(200), missed: 'all' as const } },
  };
  // A leader that died holding the lock for another 800 ms.
  await client
    .db('nori_test')
    .collection<{ _id: string; beat: string; kind: string; holder: string; expires: number }>('nori_beat')
    .insertOne({ _id: `${name}:lock`, beat: name, kind: 'lock', holder: 'ghost', expires: Date.now() + 800 });
  const [a, b] = [app.beat(options), app.beat(options)];
  const [wa, wb] = [watch(a), watch(b)];
  const started = Date.now();
  a.start();
  b.start();
  try {
    await waitFor('a leader', () => a.leading || b.leading, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    await sleep(1000);
    expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
    const [leader, other] = a.leading ? [a, b] : [b, a];
    await leader.stop();
    await waitFor('the other to lead', () => other.leading, 3000);
    await sleep(1000);
    const ticks = [...wa.ticks, ...wb.ticks].map((t) => t.due.getTime()).sort((x, y) => x - y);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.slice(1).map((d, i) => d - (ticks[i] as number))).toEqual(Array(ticks.length - 1).fill(200));
    expect(ticks.length).toBeGreaterThanOrEqual(8);
  } finally {
    await a.stop();
    await b.stop();
    const admin = app.beat({ name, store: mongoUrl });
    await admin.clear();
    await admin.stop();
    await client.close();
  }
}, 30_000);
