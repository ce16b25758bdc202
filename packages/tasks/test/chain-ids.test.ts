/**
 * root_id and parent_id along a chain, read back on both sides: each step's worker reads root =
 * the chain's first task and parent = the step before it, and the sending side (the App's
 * task-sent hook) sent exactly those. Between nori steps, and with a Python Celery 5.2 step in the
 * middle (Python reads what nori wrote, nori reads what Python wrote).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chain, currentTask, signature, type App } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { REDIS } from './brokers.js';
import { startCeleryWorker } from './python/celery.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
const pythonWorkers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of pythonWorkers.splice(0)) await stop();
});

/** One step as its worker read it (Python's field names, which interop.ids returns). */
interface Ids {
  id: string;
  root_id: string | null;
  parent_id: string | null;
}

/** The nori step: the trail so far plus what this worker read. */
function stepTask(app: App) {
  return app.task('ci.step', (trail: Ids[]) => {
    const { id, rootId, parentId } = currentTask();
    return [...trail, { id, root_id: rootId, parent_id: parentId }];
  });
}

/** What the App sent, by task id. */
function sentIds(app: App): Map<string, { rootId: string; parentId: string | null }> {
  const sent = new Map<string, { rootId: string; parentId: string | null }>();
  app.on('task-sent', (info) => sent.set(info.id, { rootId: info.rootId, parentId: info.parentId }));
  return sent;
}

/** Each step's root is the first step, its parent the step before (none for the first). */
function expectLinked(trail: Ids[], steps: number): void {
  expect(trail).toHaveLength(steps);
  const root = trail[0]?.id;
  expect(trail).toEqual(trail.map((step, i) => ({ id: step.id, root_id: root, parent_id: i === 0 ? null : trail[i - 1]?.id })));
  expect(new Set(trail.map((s) => s.id)).size).toBe(steps);
}

describe('root_id and parent_id along a chain', () => {
  it('between nori steps: read by each worker as sent', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const step = stepTask(app);
    const sent = sentIds(app);
    await worker();
    const r = await chain(step.s([[]]), step.s(), step.s(), step.s()).applyAsync<Ids[]>(app);
    const trail = await r.get({ timeout: 10_000 });
    expectLinked(trail, 4);
    expect(trail.at(-1)?.id).toBe(r.id);
    // The hook fires once the broker has the message: on memory:// the step may have run by then.
    await expect.poll(() => sent.size).toBe(4);
    for (const s of trail) expect(sent.get(s.id)).toEqual({ rootId: s.root_id, parentId: s.parent_id });
  });

  it('nori → Python Celery 5.2 → nori on Redis: each side reads the ids the other wrote', async () => {
    const backend = redisUrl(1);
    const { app, queue, worker } = testbed(REDIS, { backend });
    const pyQueue = `${queue}-py`;
    const python = await startCeleryWorker({ broker: REDIS, backend, queue: pyQueue }, { node: `${pyQueue}@python` });
    pythonWorkers.push(async () => {
      await python.stop();
      await app.connection.deleteQueue(pyQueue).catch(() => undefined);
      // Celery binds the queue to an exchange of its own name.
      await app.connection.deleteExchange(pyQueue).catch(() => undefined);
    });
    const step = stepTask(app);
    const sent = sentIds(app);
    await worker();
    const r = await chain(step.s([[]]), signature('interop.ids', [], {}, { queue: pyQueue }), step.s([], {}, { queue })).applyAsync<Ids[]>(app);
    const trail = await r.get({ timeout: 30_000 });
    expectLinked(trail, 3);
    expect(trail.at(-1)?.id).toBe(r.id);
    // nori sent the first step (to nori) and the second (to Python); Python sent the third.
    expect(sent.get(trail[0]?.id as string)).toEqual({ rootId: trail[0]?.id, parentId: null });
    expect(sent.get(trail[1]?.id as string)).toEqual({ rootId: trail[0]?.id, parentId: trail[0]?.id });
    expect(sent.has(trail[2]?.id as string)).toBe(false);
  }, 60_000);
});
