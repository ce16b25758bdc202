/**
 * Once-locks (celery_once semantics) on Redis: one task per call while it is queued or running,
 * AlreadyQueued or the holder's result for the others, released when it ends (or starts), expired
 * after the timeout, different arguments not blocked.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AlreadyQueued } from '@nori/tasks';
import { onceKey } from '@nori/tasks/protocol';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';
import { redisUrl } from '@nori/testing/brokers';

afterEach(cleanup);
const BACKEND = redisUrl(1);
/** Locks live beside the results (the backend's Redis) when onceBackend is not set. */
const redis = new Redis(BACKEND);
afterAll(() => void redis.disconnect());
let n = 0;
const unique = (): string => `once.${process.pid}.${Date.now()}.${n++}`;

describe('once-locks on Redis', () => {
  it('100 concurrent delay calls with the same arguments: one is sent and runs, 99 get AlreadyQueued; the lock goes when it ends', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    let runs = 0;
    const name = unique();
    const t = app.task(
      name,
      async (x: number, opts: { a: number; b: number }) => {
        runs++;
        await new Promise((r) => setTimeout(r, 300));
        return x + opts.a;
      },
      { once: { timeout: 60_000 } },
    );
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => t.delay(1, i % 2 === 0 ? { a: 1, b: 2 } : { b: 2, a: 1 })));
    const sent = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(sent).toHaveLength(1);
    expect(refused).toHaveLength(99);
    const first = (sent[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof t.delay>>>).value;
    for (const r of refused) expect(r.reason).toBeInstanceOf(AlreadyQueued);
    expect(refused[0]?.reason).toMatchObject({ holder: first.id, key: onceKey(name, [1, { a: 1, b: 2 }], {}) });
    expect((refused[0]?.reason as AlreadyQueued).countdown).toBeGreaterThan(50_000);
    expect(await redis.get(onceKey(name, [1, { a: 1, b: 2 }], {}))).toBe(first.id);

    await worker({ concurrency: 4 });
    expect(await first.get({ timeout: 10_000 })).toBe(2);
    expect(runs).toBe(1);
    await waitFor('the lock to be released', async () => (await redis.exists(onceKey(name, [1, { a: 1, b: 2 }], {}))) === 0);
    expect(await (await t.delay(1, { a: 1, b: 2 })).get({ timeout: 10_000 })).toBe(2);
    expect(runs).toBe(2);
  });

  it('graceful returns the holder’s result; other arguments are not blocked; the lock expires after its timeout', async () => {
    const { app } = testbed(REDIS, { backend: BACKEND });
    const graceful = app.task(unique(), (x: number) => x, { once: { graceful: true, timeout: 60_000 } });
    const a = await graceful.delay(1);
    expect((await graceful.delay(1)).id).toBe(a.id);
    expect((await graceful.delay(2)).id).not.toBe(a.id);
    const short = app.task(unique(), (x: number) => x, { once: { timeout: 400 } });
    await short.delay(7);
    await expect(short.delay(7)).rejects.toBeInstanceOf(AlreadyQueued);
    await new Promise((r) => setTimeout(r, 600));
    await expect(short.delay(7)).resolves.toBeDefined();
    await redis.del(onceKey(graceful.name, [1], {}), onceKey(graceful.name, [2], {}), onceKey(short.name, [7], {}));
  });

  it('unlockBefore releases the lock when the task starts, so the next call queues while it runs', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const t = app.task(
      unique(),
      async () => {
        started++;
        await gate;
        return 'ok';
      },
      { once: { unlockBefore: true } },
    );
    await worker({ concurrency: 2 });
    const first = await t.delay();
    await waitFor('the task to start', () => started === 1);
    await waitFor('the lock to go', async () => (await redis.exists(onceKey(t.name, [], {}))) === 0);
    const second = await t.delay();
    release();
    expect([await first.get({ timeout: 10_000 }), await second.get({ timeout: 10_000 })]).toEqual(['ok', 'ok']);
  });
});
