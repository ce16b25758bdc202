/**
 * Once-locks across a task's outcomes on Redis: a retry keeps the lock it was sent under without
 * tripping over it, and the worker gives the lock back however the task ends (success after
 * retries, failure, Reject, revoked: expired, revoked while queued, terminated while running), not
 * only on success. Every lock lives 60 s, far longer than any wait here: a lock still there after
 * its task ended is one the worker kept.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AlreadyQueued, currentTask, Reject, TaskRevokedError, type AsyncResult } from '@nori/tasks';
import { onceKey } from '@nori/tasks/protocol';
import { redisUrl } from '@nori/testing/brokers';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
const BACKEND = redisUrl(1);
/** Locks live beside the results (the backend's Redis) when onceBackend is not set. */
const redis = new Redis(BACKEND);
afterAll(() => void redis.disconnect());
let n = 0;
const unique = (what: string): string => `once-${what}.${process.pid}.${Date.now()}.${n++}`;
const ONCE = { once: { timeout: 60_000 } };

const released = (name: string, args: unknown[]): Promise<void> =>
  waitFor(`the lock of ${name} to be released`, async () => (await redis.exists(onceKey(name, args, {}))) === 0, 5000);

describe('once-locks on every outcome (Redis)', () => {
  it('a retry keeps the lock (a new call is refused while it waits) and does not trip over it; the lock goes when it succeeds', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    const runs: number[] = [];
    const name = unique('retry');
    const t = app.task(
      name,
      (x: number) => {
        const ctx = currentTask();
        runs.push(ctx.retries);
        if (ctx.retries < 2) ctx.retry({ countdown: ctx.retries === 0 ? 800 : 10 });
        return x * ctx.retries;
      },
      ONCE,
    );
    const w = await worker();
    const firstOutcome = new Promise<string>((resolve) => {
      w.once('task-retried', () => resolve('retried'));
      w.once('task-failed', (_, { error }) => resolve(`failed: ${String(error)}`));
    });
    const r = await t.delay(21);
    expect(await firstOutcome).toBe('retried');
    // Between the first run and its retry the lock still names the task.
    expect(await redis.get(onceKey(name, [21], {}))).toBe(r.id);
    const refused = await t.delay(21).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AlreadyQueued);
    expect(refused).toMatchObject({ holder: r.id });
    expect(await r.get({ timeout: 10_000 })).toBe(42);
    expect(runs).toEqual([0, 1, 2]);
    await released(name, [21]);
  });

  it('the lock goes when the task fails', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    const name = unique('fail');
    const t = app.task(
      name,
      (x: number) => {
        throw new RangeError(`no ${x}`);
      },
      ONCE,
    );
    await worker();
    await expect((await t.delay(1)).get({ timeout: 10_000 })).rejects.toMatchObject({ excType: 'RangeError' });
    await released(name, [1]);
  });

  it('the lock goes when the task rejects itself', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    const name = unique('reject');
    const t = app.task(
      name,
      (x: number) => {
        throw new Reject(`not ${x}`, false);
      },
      ONCE,
    );
    const w = await worker();
    const rejected = new Promise<string | undefined>((resolve) => w.once('task-rejected', (request) => resolve(request?.id)));
    const r = await t.delay(2);
    expect(await rejected).toBe(r.id);
    await released(name, [2]);
  });

  it('the lock goes when the task is revoked: expired, revoked while queued, terminated while running', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    const name = unique('revoke');
    const started: string[] = [];
    const t = app.task(
      name,
      async (x: number) => {
        const { id, signal } = currentTask();
        started.push(id);
        await new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
        return x;
      },
      ONCE,
    );
    await worker({ concurrency: 1 });
    const revoked = (r: AsyncResult<unknown>): Promise<unknown> => expect(r.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskRevokedError);

    const expired = await t.applyAsync([1], {}, { expires: new Date(Date.now() - 1000) });
    await revoked(expired);
    await released(name, [1]);

    // The worker's one slot is taken by a running call; a second call waits behind it.
    const running = await t.delay(2);
    await waitFor('the first call to start', () => started.length === 1);
    const queued = await t.delay(3);
    await queued.revoke();
    await running.revoke({ terminate: true });
    await revoked(running);
    await revoked(queued);
    expect(started).toEqual([running.id]);
    await released(name, [2]);
    await released(name, [3]);
  });
});
