/**
 * Admission's paths on memory:// (process-local, fast), beside admission.test.ts's settlements:
 * what the task-rejected hook says, an ETA task taking the next free slot ahead of those queued
 * before it, an expired ETA task revoked without waiting for its ETA, and worker.held keeping
 * only what waits or runs.
 */
import { afterEach, expect, it } from 'vitest';
import { NotRegistered } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const setup = () => testbed('memory://', { backend: 'memory://' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('task-rejected says why and that nothing is requeued: not a task message, a task nobody here knows', async () => {
  const { app, worker, conn, queue } = setup();
  const w = await worker();
  const rejected: Array<{ id: string | undefined; requeue: boolean; reason: Error }> = [];
  w.on('task-rejected', (r, { requeue, reason }) => rejected.push({ id: r?.id, requeue, reason }));
  await conn.producer().publish({ not: 'a task' }, { routingKey: queue });
  const unknown = await app.sendTask('adm.nobody', []);
  await expect.poll(() => rejected.length, { timeout: 5000 }).toBe(2);
  expect(rejected.map(({ id, requeue }) => ({ id, requeue }))).toEqual([
    { id: undefined, requeue: false },
    { id: unknown.id, requeue: false },
  ]);
  expect(rejected[0]!.reason).toBeInstanceOf(Error);
  expect(rejected[1]!.reason).toBeInstanceOf(NotRegistered);
});

it('an ETA task that came due takes the next free slot ahead of tasks queued before it; held shows who waits and runs', async () => {
  const { app, worker } = setup();
  const order: string[] = [];
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const block = app.task('adm.block', () => gate);
  const step = app.task('adm.step', (tag: string) => void order.push(tag));
  const w = await worker({ concurrency: 1 });
  const started: string[] = [];
  w.on('task-started', (r) => started.push(r.id));
  const blocker = await block.delay();
  await expect.poll(() => started.length).toBe(1);
  const plain = [await step.delay('plain 1'), await step.delay('plain 2')];
  const due = await step.applyAsync(['due'], {}, { countdown: 150 });
  await sleep(400);
  // The blocker runs; the others wait (received, not started).
  expect(new Map([...w.held].map((t) => [t.request.id, t.startedAt !== null]))).toEqual(
    new Map([
      [blocker.id, true],
      [plain[0]!.id, false],
      [plain[1]!.id, false],
      [due.id, false],
    ]),
  );
  release();
  await Promise.all([...plain, due].map((r) => r.get({ timeout: 5000 })));
  expect(order).toEqual(['due', 'plain 1', 'plain 2']);
  await expect.poll(() => w.held.size).toBe(0);
});

it('an expired ETA task is revoked at once, and nothing revoked or parked stays held', async () => {
  const { app, worker } = setup();
  const t = app.task('adm.t', () => 'ran');
  const w = await worker({ etaHoldLimit: 0 });
  const revoked: string[] = [];
  w.on('task-revoked', (r) => revoked.push(r.id));
  const parked: string[] = [];
  w.on('task-parked', (r) => parked.push(r.id));
  const sent = Date.now();
  const expired = await t.applyAsync([], {}, { countdown: 3000, expires: new Date(0) });
  await expect.poll(() => revoked, { timeout: 2000 }).toEqual([expired.id]);
  expect(Date.now() - sent).toBeLessThan(1500);
  const later = await t.applyAsync([], {}, { countdown: 60_000 });
  await expect.poll(() => parked).toEqual([later.id]);
  expect(w.held.size).toBe(0);
});

it('a task that waited for a slot is held while it runs, then let go', async () => {
  const { app, worker } = setup();
  const gates: Array<() => void> = [];
  const wait = app.task('adm.wait', () => new Promise<void>((r) => gates.push(r)));
  const w = await worker({ concurrency: 1 });
  const first = await wait.delay();
  const second = await wait.delay();
  await expect.poll(() => gates.length).toBe(1);
  gates[0]!();
  await expect.poll(() => gates.length).toBe(2);
  // The second waited for the slot; running now, it is still held.
  expect([...w.held].map((t) => [t.request.id, t.startedAt !== null])).toEqual([[second.id, true]]);
  gates[1]!();
  await Promise.all([first, second].map((r) => r.get({ timeout: 5000 })));
  await expect.poll(() => w.held.size).toBe(0);
});
