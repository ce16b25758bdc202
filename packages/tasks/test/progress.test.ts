/**
 * Custom states (Celery's `update_state`): a task reports PROGRESS with a meta from the worker's
 * own thread, from a pool thread and from a child process; callers read it as `state` and `info`
 * and follow it with `states()`, the worker's `task-progress` hook and the `task-progress` event
 * carry it (the event state shows the custom state), a task with ignoreResult still stores it (as
 * Celery), and a state the worker refuses rejects inside the task.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { currentTask, moduleTask } from '@nori/tasks';
import { EventState, type CeleryEvent } from '@nori/tasks/events';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await cleanup();
});

// Plain JavaScript: pool threads and children load task modules with plain Node.
const CHILD = new URL('./fixtures/child-tasks.mjs', import.meta.url);

interface Ran {
  pid: number;
  thread: number;
  refused: string;
}

for (const pool of ['async', 'threads', 'process'] as const) {
  it(`a task reports its progress: state, info, states(), the hook and the event (${pool} pool)`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nori-progress-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const gate = join(dir, 'gate');
    const { app, worker } = testbed(REDIS, { backend: REDIS, sendEvents: true });
    const events: CeleryEvent[] = [];
    const state = new EventState();
    const receiver = await app.events.receive({ '*': (e) => (events.push(e), state.event(e)) });
    cleanups.push(() => receiver.stop());
    // ignoreResult: the SUCCESS is not stored, the reported states are (Celery's update_state ignores it too).
    const task = app.task('progress.run', moduleTask<(gate: string) => Ran>(CHILD, 'progress'), { ignoreResult: pool === 'async' });
    const w = await worker({ pool, concurrency: 1 });
    const hooked: unknown[] = [];
    w.on('task-progress', (r, i) => hooked.push([r.id, i.state, i.meta]));

    const r = await task.delay(gate);
    const seen: Array<[string, unknown]> = [];
    for await (const s of r.states({ timeout: 30_000 })) {
      if (s.state === 'PENDING') continue;
      seen.push([s.state, s.result]);
      expect([r.state, r.info]).toEqual([s.state, s.result]);
      if (seen.length === 1) await writeFile(gate, '');
      // With ignoreResult the last state stored is the second PROGRESS.
      if (pool === 'async' && seen.length === 2) break;
    }
    const progress = [
      ['PROGRESS', { current: 1, total: 2 }],
      ['PROGRESS', { current: 2, total: 2 }],
    ];
    if (pool === 'async') {
      expect(seen).toEqual(progress);
      await waitFor('the task to end', () => w.active === 0);
    } else {
      expect(seen).toEqual([...progress, ['SUCCESS', expect.objectContaining({ refused: 'TaskConfigError' })]]);
      const ran = seen[2]![1] as Ran;
      if (pool === 'process') expect(ran.pid).not.toBe(process.pid);
      else expect(ran.thread).not.toBe(0);
    }
    expect(hooked).toEqual(progress.map(([s, meta]) => [r.id, s, meta]));
    await waitFor('the task events', () => state.task(r.id)?.state === 'SUCCESS');
    expect(events.filter((e) => e.uuid === r.id && e.type === 'task-progress')).toEqual(
      progress.map(([s, meta]) => expect.objectContaining({ uuid: r.id, state: s, meta })),
    );
    const snapshot = state.task(r.id);
    expect(snapshot?.history.map((h) => h.state)).toEqual(['RECEIVED', 'STARTED', 'PROGRESS', 'PROGRESS', 'SUCCESS']);
    expect(snapshot?.meta).toEqual({ current: 2, total: 2 });
  });
}

it('updateState from a handler on the worker thread: a refused state rejects, a stored one resolves; info follows the stored result', async () => {
  const { app, worker } = testbed(REDIS, { backend: REDIS });
  const task = app.task('progress.inline', async () => {
    const ctx = currentTask();
    const refused = await ctx.updateState('').catch((e: Error) => e.name);
    await ctx.updateState('DOWNLOADING', ['a', 1]);
    return refused;
  });
  await worker();
  const r = await task.delay();
  expect(await r.get({ timeout: 10_000 })).toBe('TaskConfigError');
  expect([r.state, r.info]).toEqual(['SUCCESS', 'TaskConfigError']);
  // A finished result yields its ready state alone.
  const all: string[] = [];
  for await (const s of r.states()) all.push(s.state);
  expect(all).toEqual(['SUCCESS']);
});
