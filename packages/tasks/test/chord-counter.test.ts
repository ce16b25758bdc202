/**
 * Chords on the Redis result backend's counter (Celery's `celery-taskset-meta-<group>.j` sorted
 * set): the body gets the header's results in header order whatever order the parts finish in,
 * and is sent once, only when every part is in. Each part waits for the test to let it finish, so
 * the order is the test's, not the scheduler's; the body goes to a queue nobody consumes until the
 * test looks at it.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { chord, currentTask } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
/** Queues of a test's own beside the testbed's, deleted before the testbed closes its connection (hooks run last first). */
const extraQueues: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const drop of extraQueues.splice(0)) await drop();
});
const BACKEND = redisUrl(1);
const redis = new Redis(BACKEND);
afterAll(() => void redis.disconnect());

const PARTS = 5;

it('the body gets the results in header order, and is sent once, after the last part, whatever order the parts finish in', async () => {
  const { app, conn, queue, worker } = testbed(REDIS, { backend: BACKEND });
  const bodyQueue = `${queue}-body`;
  // Celery's declaration binds it to an exchange of its own name.
  extraQueues.push(async () => {
    await conn.deleteQueue(bodyQueue);
    await conn.deleteExchange(bodyQueue);
  });
  const gates = Array.from({ length: PARTS }, () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  });
  let group: string | null = null;
  const part = app.task('cc.part', async (i: number) => {
    group = currentTask().group;
    await gates[i]?.opened;
    return `part ${i}`;
  });
  let bodyRuns = 0;
  const collect = app.task('cc.collect', (results: string[]) => {
    bodyRuns++;
    return results;
  });
  await worker({ concurrency: PARTS });
  const r = await chord(
    Array.from({ length: PARTS }, (_, i) => part.s([i])),
    collect.s([], {}, { queue: bodyQueue }),
  ).applyAsync<string[]>(app);
  await waitFor('the group id', () => group !== null);
  const counted = (): Promise<number> => redis.zcard(`celery-taskset-meta-${group}.j`);

  const bodySent = async (): Promise<boolean> => (await conn.queueSize(bodyQueue)) > 0;
  try {
    // Last part first: every part but the first is in, and the body is not sent.
    for (let i = PARTS - 1; i >= 1; i--) {
      gates[i]?.open();
      await waitFor(`part ${i} to be counted`, async () => (await counted()) === PARTS - i || (await bodySent()), 5000);
      expect(await bodySent()).toBe(false);
    }
    gates[0]?.open();
    await waitFor('the body to be sent', bodySent, 5000);
  } finally {
    // However it ends, no part is left waiting (the worker's stop would wait for it).
    for (const gate of gates) gate.open();
  }

  await worker({ queues: [bodyQueue] });
  expect(await r.get({ timeout: 10_000 })).toEqual(Array.from({ length: PARTS }, (_, i) => `part ${i}`));
  // Sent once: nothing more arrives after the body ran, and the counter's keys are gone.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(bodyRuns).toBe(1);
  expect(await conn.queueSize(bodyQueue)).toBe(0);
  expect(await redis.exists(`celery-taskset-meta-${group}.j`, `celery-taskset-meta-${group}.s`)).toBe(0);
});
