/**
 * Durations above 2^31-1 ms (24.8 days) (#22.4): Node fires such a timer after 1 ms, so every
 * duration of the task layer goes through core's long-timer helper. A 25-day hard or soft limit
 * (or a Celery caller's time_limit=2160000 s), get({ timeout }), a rate-limit wait, an inspect
 * timeout and a warm stop's shutdownTimeout each wait instead of firing at once; on RabbitMQ an
 * ETA 4000 days away, whose parking the broker refuses, is never run early.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { currentTask } from '@nori/tasks';
import { AMQP } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const DAY = 86_400_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('25-day durations wait instead of firing at once (memory://)', () => {
  it('hard and soft limits, per task and per call (a Celery time_limit of 2160000 s)', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const limited = app.task(
      'long.limited',
      async () => {
        await sleep(200);
        return currentTask().signal.aborted ? 'aborted' : 'ran';
      },
      { timeLimit: 25 * DAY, softTimeLimit: 25 * DAY },
    );
    await worker();
    expect(await (await limited.delay()).get({ timeout: 5000 })).toBe('ran');
    expect(await (await limited.applyAsync([], {}, { timeLimit: 2_160_000_000, softTimeLimit: 2_160_000_000 })).get({ timeout: 5000 })).toBe('ran');
  });

  it('get({ timeout }) waits for the result', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const slow = app.task('long.slow', () => sleep(300).then(() => 'done'));
    await worker();
    expect(await (await slow.delay()).get({ timeout: 25 * DAY })).toBe('done');
  });

  it('a rate-limit wait of 100 days keeps the next task waiting', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const runs: number[] = [];
    const rare = app.task('long.rare', () => runs.push(Date.now()), { rateLimit: 1 / (100 * 86_400) });
    const w = await worker();
    await rare.delay();
    await rare.delay();
    await sleep(500);
    expect(runs).toHaveLength(1);
    await w.stop();
  });

  it('an inspect timeout of 25 days waits for the reply', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const w = await worker({ hostname: `long-${Date.now()}@test` });
    const replies = await app.control.inspect({ timeout: 25 * DAY, destination: [w.hostname] }).ping();
    expect(replies).toEqual({ [w.hostname]: { ok: 'pong' } });
  });

  it('a warm stop with a 25-day shutdownTimeout lets the running task finish (it does not go cold)', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const slow = app.task('long.finish', () => sleep(300).then(() => 'finished'));
    const w = await worker({ shutdownTimeout: 25 * DAY });
    let cold: boolean | undefined;
    w.on('worker-shutdown', (i) => (cold = i.cold));
    const started = new Promise<void>((resolve) => w.on('task-started', () => resolve()));
    const r = await slow.delay();
    await started;
    await w.stop();
    expect(cold).toBe(false);
    expect(await r.get({ timeout: 1000 })).toBe('finished');
  });
});

it('RabbitMQ: an ETA 4000 days away, whose parking the broker refuses, is held and never run early', async () => {
  const { app, worker } = testbed(AMQP, { backend: 'memory://' });
  let ran = 0;
  const far = app.task('long.far', () => ++ran);
  const w = await worker();
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  await far.applyAsync([], {}, { countdown: 4000 * DAY });
  await sleep(2000);
  expect(ran).toBe(0);
  expect(errors.length).toBeGreaterThan(0);
});
