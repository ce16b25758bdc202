/**
 * ETA holding and parking on memory:// (process-local, a delayed set, a few seconds): which ETAs
 * are held and which parked (etaHoldLimit, the last second always held, the count going back down),
 * when a far one comes back (half of etaHoldMax early), and that none starts before its ETA.
 * eta-hold.test.ts runs the same rules under a backlog on Redis and RabbitMQ.
 */
import { afterEach, expect, it } from 'vitest';
import type { Worker } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

/** Per task id: when it was received (each time), parked (with the ETA it was parked for), started, and its ETA. */
function watch(w: Worker) {
  const received = new Map<string, number[]>();
  const parked: Array<{ id: string; eta: number; at: number }> = [];
  const started = new Map<string, { at: number; eta: number }>();
  w.on('task-received', (r) => received.set(r.id, [...(received.get(r.id) ?? []), Date.now()]));
  w.on('task-parked', (r, { eta }) => parked.push({ id: r.id, eta: eta.getTime(), at: Date.now() }));
  w.on('task-started', (r) => started.set(r.id, { at: Date.now(), eta: r.eta?.getTime() ?? Number.NaN }));
  return { received, parked, started };
}

it('past etaHoldLimit an ETA is parked for exactly its wait; the last second is always held; none starts early', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const t = app.task('eta.t', () => 'ran');
  const w = await worker({ concurrency: 4, etaHoldLimit: 1 });
  const { parked, started } = watch(w);
  const held = await t.applyAsync([], {}, { countdown: 1500 });
  const [second, third] = [await t.applyAsync([], {}, { countdown: 1500 }), await t.applyAsync([], {}, { countdown: 1500 })];
  const near = await t.applyAsync([], {}, { countdown: 600 });
  await Promise.all([held, second, third, near].map((r) => r.get({ timeout: 5000 })));
  expect(parked.map((p) => p.id)).toEqual([second.id, third.id]);
  for (const p of parked) expect(Math.abs(p.eta - started.get(p.id)!.eta)).toBeLessThan(50);
  for (const r of [held, second, third, near]) {
    const s = started.get(r.id)!;
    expect(s.at).toBeGreaterThanOrEqual(s.eta);
    expect(s.at - s.eta).toBeLessThan(500);
  }
  // Nothing is held now: the next one is held again, not parked.
  const later = await t.applyAsync([], {}, { countdown: 1100 });
  await later.get({ timeout: 5000 });
  expect(parked.map((p) => p.id)).toEqual([second.id, third.id]);
}, 15_000);

it('an ETA beyond etaHoldMax is parked once, comes back half of etaHoldMax before it, is held and starts on time', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const t = app.task('eta.far', () => 'far');
  const w = await worker({ concurrency: 2, etaHoldMax: 1200 });
  const { received, parked, started } = watch(w);
  const sent = Date.now();
  const r = await t.applyAsync([], {}, { countdown: 2000 });
  expect(await r.get({ timeout: 5000 })).toBe('far');
  expect(parked.map((p) => p.id)).toEqual([r.id]);
  const [first, back] = received.get(r.id)!;
  expect(first! - sent).toBeLessThan(300);
  // Parked for 2000 - 1200 / 2 = 1400 ms.
  expect(back! - sent).toBeGreaterThanOrEqual(1300);
  expect(back! - sent).toBeLessThan(1800);
  const s = started.get(r.id)!;
  expect(s.at).toBeGreaterThanOrEqual(s.eta);
  expect(s.at - s.eta).toBeLessThan(500);
}, 15_000);

it('an ETA already past runs at once; a parked message comes back byte for byte', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const echo = app.task('eta.echo', (text: string) => text);
  const w = await worker({ concurrency: 2, etaHoldLimit: 0 });
  const { parked } = watch(w);
  expect(await (await echo.applyAsync(['past'], {}, { eta: new Date(Date.now() - 1000) })).get({ timeout: 5000 })).toBe('past');
  // Past the hold limit (0): parked, back when due, run with its arguments as sent.
  const text = 'héllo, wörld ✓';
  const back = await echo.applyAsync([text], {}, { countdown: 1200 });
  expect(await back.get({ timeout: 5000 })).toBe(text);
  expect(parked.map((p) => p.id)).toEqual([back.id]);
});
