/**
 * Celery's ack matrix: the table itself, and the outcomes that differ between its columns run for
 * real (late acks on memory://): a timed-out task requeued when acksOnFailureOrTimeout is off, a
 * failed one rejected, a dead thread requeued with rejectOnWorkerLost or failed without it.
 */
import { afterEach, expect, it } from 'vitest';
import { moduleTask } from '@nori/tasks';
import { settlementFor, type Outcome } from '@nori/tasks/protocol';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const CPU = new URL('./fixtures/cpu-tasks.mjs', import.meta.url);

it('settles late-acked messages as Celery does', () => {
  const outcomes: Outcome[] = ['success', 'retry', 'failure', 'time-limit', 'worker-lost', 'lapsed', 'reject', 'reject-requeue', 'ignore', 'revoked'];
  const table = (policy: Parameters<typeof settlementFor>[1]) => Object.fromEntries(outcomes.map((o) => [o, settlementFor(o, policy)]));
  expect(table({ acksLate: true, acksOnFailureOrTimeout: true, rejectOnWorkerLost: false })).toEqual({
    success: 'ack',
    retry: 'ack',
    failure: 'ack',
    'time-limit': 'ack',
    'worker-lost': 'ack',
    lapsed: 'reject',
    reject: 'reject',
    'reject-requeue': 'requeue',
    ignore: 'ack',
    revoked: 'ack',
  });
  expect(table({ acksLate: true, acksOnFailureOrTimeout: false, rejectOnWorkerLost: true })).toEqual({
    success: 'ack',
    retry: 'ack',
    failure: 'reject',
    'time-limit': 'requeue',
    'worker-lost': 'requeue',
    lapsed: 'reject',
    reject: 'reject',
    'reject-requeue': 'requeue',
    ignore: 'ack',
    revoked: 'ack',
  });
});

it('acksOnFailureOrTimeout: false requeues a timed-out task (it runs again) and rejects a failed one', async () => {
  const { app, conn, queue, worker } = testbed('memory://', { backend: 'memory://', acksOnFailureOrTimeout: false });
  let runs = 0;
  const slowOnce = app.task(
    't.slowOnce',
    async () => {
      runs++;
      if (runs === 1) await new Promise((r) => setTimeout(r, 5000));
      return runs;
    },
    { timeLimit: 200 },
  );
  let failures = 0;
  const failing = app.task('t.failing', () => {
    failures++;
    throw new Error('no');
  });
  await worker();
  // The requeued run stores no FAILURE; the second run's SUCCESS is the result.
  expect(await (await slowOnce.delay()).get({ timeout: 10_000 })).toBe(2);
  await expect((await failing.delay()).get({ timeout: 10_000 })).rejects.toMatchObject({ message: expect.stringContaining('no') });
  await new Promise((r) => setTimeout(r, 200));
  expect(failures).toBe(1);
  expect(await conn.queueSize(queue)).toBe(0);
});

it('a thread that dies: requeued with rejectOnWorkerLost, else FAILURE WorkerLostError', async () => {
  for (const rejectOnWorkerLost of [true, false]) {
    const { app, worker } = testbed('memory://', { backend: 'memory://', rejectOnWorkerLost });
    const crash = app.task('t.crash', moduleTask<() => string>(CPU, 'crashUnlessRedelivered'));
    await worker({ pool: 'threads', concurrency: 1 });
    const r = await crash.delay();
    if (rejectOnWorkerLost) expect(await r.get({ timeout: 20_000 })).toBe('survived');
    else await expect(r.get({ timeout: 20_000 })).rejects.toMatchObject({ excType: 'WorkerLostError', excModule: 'billiard.exceptions' });
    await cleanup();
  }
});
