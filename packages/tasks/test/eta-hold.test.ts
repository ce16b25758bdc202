/**
 * ETA tasks are held in the worker and run when due (issue 22 item 5), on Redis and RabbitMQ:
 * a 1.5 s countdown sent before a backlog of short tasks starts within 1 s of its ETA (it used to
 * be parked and come back behind the backlog, seconds late); holding is bounded in number
 * (`etaHoldLimit`: past it ETA tasks are parked, and plain tasks keep running meanwhile) and in
 * time (`etaHoldMax`: a far ETA is parked to come back half the horizon early, then held, so it is
 * on time too). No task ever starts before its ETA.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRequest } from '@nori/tasks';
import { NETWORK_BROKERS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** When each task started, by id, with its ETA. */
function starts(): { seen: Map<string, { at: number; eta: number | undefined }>; onStart: (r: TaskRequest) => void } {
  const seen = new Map<string, { at: number; eta: number | undefined }>();
  return { seen, onStart: (r) => seen.set(r.id, { at: Date.now(), eta: r.eta?.getTime() }) };
}

for (const { name, broker } of NETWORK_BROKERS) {
  describe(`ETA tasks are held and run when due (${name})`, () => {
    it('a 1.5 s countdown sent before 1,500 short tasks starts within 1 s of its ETA, with the default options', async () => {
      const { app, worker } = testbed(broker);
      const short = app.task('eta.short', () => sleep(20));
      const due = app.task('eta.due', () => 'due');
      const { seen, onStart } = starts();
      let lastShortDone = 0;
      const w = await worker({ concurrency: 10 });
      w.on('task-started', onStart);
      w.on('task-succeeded', (r) => {
        if (r.name === 'eta.short') lastShortDone = Date.now();
      });
      const parked: string[] = [];
      w.on('task-parked', (r) => parked.push(r.id));
      const countdown = await due.applyAsync([], {}, { countdown: 1500 });
      const backlog = await Promise.all(Array.from({ length: 1500 }, () => short.delay()));
      await waitFor('every task to run', () => seen.size === 1501 && lastShortDone > 0 && backlog.every((r) => seen.has(r.id)), 120_000);
      await waitFor('the last short task to end', () => seen.size === 1501 && Date.now() - lastShortDone > 200, 60_000);
      const started = seen.get(countdown.id);
      expect(started?.eta).toBeDefined();
      const late = (started?.at ?? 0) - (started?.eta ?? 0);
      // The backlog was still running well after the ETA, so a task waiting behind it would be late.
      expect(lastShortDone - (started?.eta ?? 0)).toBeGreaterThan(1000);
      console.info(`${name}: the countdown started ${late} ms after its ETA; the backlog ran until ${lastShortDone - (started?.eta ?? 0)} ms after it`);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(1000);
      expect(parked).toEqual([]);
    }, 180_000);

    it('past etaHoldLimit ETA tasks are parked, and plain tasks run meanwhile; none starts early', async () => {
      const { app, worker } = testbed(broker);
      const later = app.task('eta.later', () => 'later');
      const plain = app.task('eta.plain', () => 'plain');
      const { seen, onStart } = starts();
      // prefetch 2 × 4 = 8: at most 6 held by default, so 2 places stay for runnable tasks.
      const w = await worker({ concurrency: 2, prefetchMultiplier: 4 });
      w.on('task-started', onStart);
      const parked: string[] = [];
      w.on('task-parked', (r) => parked.push(r.id));
      const etas: Array<Awaited<ReturnType<typeof later.applyAsync>>> = [];
      for (let i = 0; i < 20; i++) etas.push(await later.applyAsync([], {}, { countdown: 4000 }));
      const sentPlain = Date.now();
      const plains = await Promise.all(Array.from({ length: 10 }, () => plain.delay()));
      await waitFor('the plain tasks', () => plains.every((r) => seen.has(r.id)), 20_000);
      const plainsDone = Math.max(...plains.map((r) => seen.get(r.id)?.at ?? 0));
      // Long before the ETAs: held ETA tasks did not take every place in the prefetch window.
      expect(plainsDone - sentPlain).toBeLessThan(2500);
      await waitFor('the ETA tasks', () => etas.every((r) => seen.has(r.id)), 30_000);
      expect(parked.length).toBe(14);
      expect(new Set(parked).size).toBe(14);
      for (const r of etas) {
        const s = seen.get(r.id);
        expect((s?.at ?? 0) - (s?.eta ?? 0)).toBeGreaterThanOrEqual(0);
      }
      // Those held ran within 1 s of their ETA.
      const held = etas.filter((r) => !parked.includes(r.id));
      expect(held).toHaveLength(6);
      for (const r of held) expect((seen.get(r.id)?.at ?? 0) - (seen.get(r.id)?.eta ?? 0)).toBeLessThan(1000);
    }, 60_000);

    it('an ETA beyond etaHoldMax is parked once, comes back half the horizon early, is held and starts on time', async () => {
      const { app, worker } = testbed(broker);
      const far = app.task('eta.far', () => 'far');
      const { seen, onStart } = starts();
      const w = await worker({ concurrency: 2, etaHoldMax: 3000 });
      w.on('task-started', onStart);
      const parked: string[] = [];
      w.on('task-parked', (r) => parked.push(r.id));
      const r = await far.applyAsync([], {}, { countdown: 6000 });
      await waitFor('the far task', () => seen.has(r.id), 20_000);
      const s = seen.get(r.id);
      expect(parked).toEqual([r.id]);
      expect((s?.at ?? 0) - (s?.eta ?? 0)).toBeGreaterThanOrEqual(0);
      expect((s?.at ?? 0) - (s?.eta ?? 0)).toBeLessThan(1000);
    }, 30_000);
  });
}
