/**
 * Beat leadership on both stores (Redis, and files on this machine): the leader's renewal really
 * extends its lock (its time left never runs down, it stays the leader, and a rival beat never
 * leads), a leader that stops hands over at once, and a leader whose lock is taken over stops
 * sending at once, even in the middle of a long catch-up.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { App, every, type Beat, type BeatOptions } from '@nori/tasks';
import { REDIS, waitFor } from './brokers.js';

const redis = new Redis(REDIS);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => void redis.disconnect());

/** What the tests need of a store: where it is, its lock as another process sees it, and a way to take the lock over. */
interface Store {
  store: BeatOptions['store'];
  /** The lock's holder and its time left (ms), null when there is none. */
  lock(): Promise<{ holder: string; left: number } | null>;
  /** Another process takes the lock (as one does once it thinks the leader's lock lapsed). */
  usurp(holder: string): Promise<void>;
  /** The entry was last sent at `due` (set before the beat starts). */
  lastRun(entry: string, due: number): Promise<void>;
}

async function redisStore(name: string): Promise<Store> {
  const key = (k: string): string => `nori-beat:${name}:${k}`;
  // Every key of the beat: the leader also publishes its code entries.
  cleanups.push(async () => void (await redis.del(key('lock'), key('last_run'), key('pending'), key('code'))));
  return {
    store: REDIS,
    lock: async () => {
      const [[, holder], [, left]] = (await redis.multi().get(key('lock')).pttl(key('lock')).exec()) as [[null, string | null], [null, number]];
      return holder === null ? null : { holder, left };
    },
    usurp: async (holder) => void (await redis.set(key('lock'), holder, 'PX', 60_000)),
    lastRun: async (entry, due) => void (await redis.hset(key('last_run'), entry, String(due))),
  };
}

async function fileStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'nori-beat-lead-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'beat.json');
  const replace = async (path: string, text: string): Promise<void> => {
    await writeFile(`${path}.test.tmp`, text);
    await rename(`${path}.test.tmp`, path);
  };
  return {
    store: { file },
    lock: async () => {
      const text = await readFile(`${file}.lock`, 'utf8').catch(() => null);
      if (text === null) return null;
      const { id, expires } = JSON.parse(text) as { id: string; expires: number };
      return { holder: id, left: expires - Date.now() };
    },
    usurp: (holder) => replace(`${file}.lock`, JSON.stringify({ id: holder, expires: Date.now() + 60_000 })),
    lastRun: (entry, due) => replace(file, JSON.stringify({ lastRun: { [entry]: due }, pending: {} })),
  };
}

function startBeat(app: App, options: BeatOptions): Beat {
  const beat = app.beat(options);
  const errors: Error[] = [];
  beat.on('error', (e) => errors.push(e));
  cleanups.push(async () => {
    await beat.stop();
    expect(errors).toEqual([]);
  });
  beat.start();
  return beat;
}

function newApp(): App {
  const app = new App({ broker: 'memory://', defaultQueue: `beat-lead-${randomUUID().slice(0, 8)}` });
  cleanups.push(() => app.close());
  return app;
}

const STORES = [
  { name: 'Redis', make: redisStore },
  { name: 'a file', make: () => fileStore() },
];

for (const s of STORES) {
  describe(`beat leadership with the state in ${s.name}`, () => {
    it("the leader's renewal extends its lock: its time left never runs down and a rival never leads", async () => {
      const name = `beat-renew-${randomUUID().slice(0, 8)}`;
      const store = await s.make(name);
      const app = newApp();
      const options = { name, store: store.store, lockTtl: 2000, interval: 200, schedule: {} };
      const leader = startBeat(app, options);
      const leaderChanges: boolean[] = [];
      leader.on('leader', (leading) => leaderChanges.push(leading));
      await waitFor('the first beat to lead', () => leader.leading, 5000);
      const rival = startBeat(app, options);
      let rivalLed = false;
      rival.on('leader', (leading) => (rivalLed ||= leading));
      // Two and a half lock lifetimes: without renewal the lock would lapse twice.
      const samples: Array<{ holder: string; left: number } | null> = [];
      for (const end = Date.now() + 5000; Date.now() < end;) {
        samples.push(await store.lock());
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(samples.length).toBeGreaterThan(40);
      expect(samples.filter((l) => l?.holder !== leader.id)).toEqual([]);
      // Renewed every 200 ms to 2000 ms: well over 1000 ms left at any moment, with room for a slow tick.
      expect(Math.min(...samples.map((l) => l?.left ?? 0))).toBeGreaterThan(1000);
      expect(rivalLed).toBe(false);
      expect(rival.leading).toBe(false);
      // Each renewal keeps the leader leading: it became the leader once and never stopped.
      expect(leaderChanges).toEqual([true]);
      expect(leader.leading).toBe(true);
    });

    it('a leader that stops gives its lock up: a rival leads at once, not a lock lifetime later', async () => {
      const name = `beat-handover-${randomUUID().slice(0, 8)}`;
      const store = await s.make(name);
      const app = newApp();
      const options = { name, store: store.store, lockTtl: 10_000, interval: 200, schedule: {} };
      const leader = startBeat(app, options);
      await waitFor('the first beat to lead', () => leader.leading, 5000);
      const rival = startBeat(app, options);
      await new Promise((r) => setTimeout(r, 500));
      expect(rival.leading).toBe(false);
      const stopped = Date.now();
      await leader.stop();
      await waitFor('the rival to lead', () => rival.leading, 5000);
      expect(Date.now() - stopped).toBeLessThan(3000);
      expect((await store.lock())?.holder).toBe(rival.id);
    });

    it('a leader whose lock is taken over sends nothing more, even in the middle of a catch-up', async () => {
      const name = `beat-deposed-${randomUUID().slice(0, 8)}`;
      const store = await s.make(name);
      const app = newApp();
      // Ten minutes of 10 ms ticks missed, all to be sent: far more than one tick of the beat sends before the takeover.
      await store.lastRun('fast', Date.now() - 600_000);
      const beat = startBeat(app, {
        name,
        store: store.store,
        lockTtl: 5000,
        interval: 100,
        schedule: { fast: { task: 'beat.fast', schedule: every(10), missed: 'all' } },
      });
      const sent: number[] = [];
      beat.on('tick-sent', (t) => sent.push(t.due.getTime()));
      let deposed = false;
      beat.on('leader', (leading) => (deposed = !leading));
      await waitFor('the catch-up to be under way', () => sent.length >= 20, 10_000);
      await store.usurp('another beat');
      // At most the one tick that was marked before the takeover finishes after it.
      const atTakeover = sent.length;
      await waitFor('the beat to notice, or to send on', () => deposed || sent.length > atTakeover + 1, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(sent.length - atTakeover).toBeLessThanOrEqual(1);
      expect(beat.leading).toBe(false);
      expect((await store.lock())?.holder).toBe('another beat');
      // Each tick once, in order, 10 ms apart.
      expect(sent.slice(1).every((due, i) => due - (sent[i] as number) === 10)).toBe(true);
    });
  });
}
