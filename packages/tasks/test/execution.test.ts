/**
 * The handler's run on this thread, on memory:// (process-local, fast): its limits end with it (a
 * signal it kept is never aborted after it returned, threw or resolved), and `worker.terminate(id)`
 * ends only the run it names, at once, as REVOKED.
 */
import { afterEach, expect, it } from 'vitest';
import { currentTask, TaskRevokedError } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const setup = () => testbed('memory://', { backend: 'memory://' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a run’s limits end with it: the signal a finished handler kept is never aborted', async () => {
  const { app, worker } = setup();
  const kept = new Map<string, AbortSignal>();
  const keep = (name: string): void => void kept.set(name, currentTask().signal);
  const limits = { softTimeLimit: 60, timeLimit: 90 };
  const returned = app.task('ex.returned', () => keep('returned'), limits);
  const threw = app.task(
    'ex.threw',
    () => {
      keep('threw');
      throw new Error('threw');
    },
    limits,
  );
  const resolved = app.task('ex.resolved', async () => keep('resolved'), limits);
  const rejected = app.task('ex.rejected', async () => (keep('rejected'), Promise.reject(new Error('rejected'))), limits);
  const noHard = app.task('ex.noHard', async () => keep('noHard'), { softTimeLimit: 60 });
  await worker({ concurrency: 5 });
  const sent = await Promise.all([returned.delay(), threw.delay(), resolved.delay(), rejected.delay(), noHard.delay()]);
  await Promise.all(sent.map((r) => r.get({ timeout: 5000, propagate: false })));
  expect(sent.map((r) => r.state)).toEqual(['SUCCESS', 'FAILURE', 'SUCCESS', 'FAILURE', 'SUCCESS']);
  await sleep(200);
  expect(Object.fromEntries([...kept].map(([name, signal]) => [name, signal.aborted]))).toEqual({
    returned: false,
    threw: false,
    resolved: false,
    rejected: false,
    noHard: false,
  });
});

it('terminate(id) ends that running task at once as REVOKED, with or without a hard limit; others run on', async () => {
  const { app, worker } = setup();
  const reasons = new Map<string, unknown>();
  const hang = async (): Promise<string> => {
    const { signal, id } = currentTask();
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    reasons.set(id, signal.reason);
    return 'aborted';
  };
  const plain = app.task('ex.hang', hang);
  const limited = app.task('ex.hangLimited', hang, { timeLimit: 10_000 });
  const w = await worker({ concurrency: 3 });
  const running: string[] = [];
  w.on('task-started', (r) => running.push(r.id));
  const [a, b, c] = await Promise.all([plain.delay(), limited.delay(), plain.delay()]);
  await expect.poll(() => running.length).toBe(3);
  expect(w.terminate('no-such-task')).toBe(false);
  const started = Date.now();
  expect(w.terminate(a.id)).toBe(true);
  expect(w.terminate(b.id)).toBe(true);
  await expect(a.get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskRevokedError);
  await expect(b.get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskRevokedError);
  expect(Date.now() - started).toBeLessThan(2000);
  expect([...reasons.keys()].sort()).toEqual([a.id, b.id].sort());
  expect(reasons.get(a.id)).toEqual(new TaskRevokedError('terminated'));
  expect(c.state).toBe('PENDING');
  expect(w.terminate(c.id)).toBe(true);
  await expect(c.get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskRevokedError);
  expect(w.terminate(c.id)).toBe(false);
});

it('a task without limits is never aborted, however long it runs', async () => {
  const { app, worker } = setup();
  const waits = app.task('ex.unlimited', async () => {
    const { signal } = currentTask();
    await sleep(50);
    return signal.aborted;
  });
  await worker();
  expect(await (await waits.delay()).get({ timeout: 5000 })).toBe(false);
});
