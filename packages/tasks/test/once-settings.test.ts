/**
 * Once-locks' settings and key: celery_once's key layout, a task's own `key`, where the locks live
 * (`onceBackend`, else the backend's Redis), how long they last (`onceDefaultTimeout`, else an
 * hour), no lock store but Redis, and a lock only ever released by the task that holds it (one
 * that outlived its lock does not release the next holder's).
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AlreadyQueued, App, TaskConfigError } from '@nori/tasks';
import { onceKey } from '@nori/tasks/protocol';
import { redisUrl } from '@nori/testing/brokers';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
const BACKEND = redisUrl(1);
/** A database no other test uses, so its clients are this file's. */
const ONCE_DB = redisUrl(12);
const backendRedis = new Redis(BACKEND);
const onceRedis = new Redis(ONCE_DB);
afterAll(() => {
  backendRedis.disconnect();
  onceRedis.disconnect();
});
let n = 0;
const unique = (what: string): string => `once-settings-${what}.${process.pid}.${Date.now()}.${n++}`;

describe('once-locks: key and settings', () => {
  it("keys calls as celery_once does: positional arguments by index, keyword arguments sorted, objects' keys sorted", () => {
    expect(onceKey('add', [1, 'x', null], { z: 1, a: [2, { b: 1, a: 2 }] })).toBe('qo_add_0-1_1-"x"_2-null_a-[2,{"a":2,"b":1}]_z-1');
    expect(onceKey('add', [undefined], {})).toBe('qo_add_0-null');
    expect(onceKey('add', [], {})).toBe('qo_add');
    expect(onceKey('add', [1, 2], { c: 3 }, (args) => ({ y: args[1], x: args[0] }))).toBe('qo_add_{"x":1,"y":2}');
  });

  it("a task's own key decides which calls are one; the lock lives in onceBackend's Redis for onceDefaultTimeout", async () => {
    const { app } = testbed(REDIS, { backend: BACKEND, onceBackend: ONCE_DB, onceDefaultTimeout: 30_000 });
    const name = unique('key');
    const t = app.task(name, (user: string, attempt: number) => `${user} ${attempt}`, { once: { key: (args) => args[0] } });
    const first = await t.delay('ana', 1);
    const refused = await t.delay('ana', 2).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AlreadyQueued);
    expect(refused).toMatchObject({ key: `qo_${name}_"ana"`, holder: first.id });
    expect((refused as AlreadyQueued).countdown).toBeGreaterThan(25_000);
    expect((refused as AlreadyQueued).countdown).toBeLessThanOrEqual(30_000);
    await t.delay('bo', 1);
    expect(await onceRedis.get(`qo_${name}_"ana"`)).toBe(first.id);
    expect(await backendRedis.exists(`qo_${name}_"ana"`)).toBe(0);
    await onceRedis.del(`qo_${name}_"ana"`, `qo_${name}_"bo"`);
    // Closing the App closes the lock store's connection (this test's own is the one left).
    const clients = async (): Promise<number> =>
      String(await onceRedis.client('LIST'))
        .split('\n')
        .filter((line) => / db=12 /.test(line)).length;
    expect(await clients()).toBe(2);
    await app.close();
    await waitFor('the lock connection to close', async () => (await clients()) === 1, 5000);
  });

  it('a lock lasts an hour by default, in the broker’s Redis when there is no Redis backend', async () => {
    const { app } = testbed(BACKEND);
    const t = app.task(unique('default'), (x: number) => x, { once: {} });
    await t.delay(1);
    const ttl = await backendRedis.pttl(onceKey(t.name, [1], {}));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    await backendRedis.del(onceKey(t.name, [1], {}));
  });

  it('once-locks need Redis: with none configured, sending a once task is a TaskConfigError', async () => {
    const app = new App({ broker: 'memory://', backend: 'memory://' });
    try {
      const t = app.task(unique('memory'), () => 1, { once: {} });
      const error = await t.delay().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskConfigError);
      expect((error as Error).message).toBe('once-locks need Redis: set onceBackend to a redis:// URL (or use a Redis backend or broker)');
    } finally {
      await app.close();
    }
  });

  it('a task that outlived its lock does not release the lock another call took after it', async () => {
    const { app, worker } = testbed(REDIS, { backend: BACKEND });
    const name = unique('outlived');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const t = app.task(
      name,
      async () => {
        started++;
        await gate;
        return 'done';
      },
      { once: { timeout: 300 } },
    );
    const key = onceKey(name, [], {});
    const first = await t.delay();
    const w = await worker({ concurrency: 1 });
    await waitFor('the call to start', () => started === 1);
    await waitFor('its lock to expire', async () => (await backendRedis.exists(key)) === 0);
    // Another sender's call of the same task took the lock meanwhile.
    await backendRedis.set(key, 'the-next-holder', 'PX', 60_000);
    release();
    expect(await first.get({ timeout: 10_000 })).toBe('done');
    await w.stop(); // every after-task step of the first call done
    expect(await backendRedis.get(key)).toBe('the-next-holder');
    await backendRedis.del(key);
  });
});
