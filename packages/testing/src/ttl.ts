/** kombu's BaseTimeToLive: per-message expiration and per-queue message TTL. */
import { expect, it } from 'vitest';
import { Queue, QueueEmptyError, UnsupportedFeatureError } from '@nori/core';
import { collect, sleep, type SuiteContext } from './context.js';

export function ttlTests(ctx: SuiteContext, supported: () => boolean): void {
  it('a message past its expiration is never delivered', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('ttl'));
    if (!supported()) {
      await expect(conn.producer().publish({ stale: true }, { routingKey: q.name, declare: [q], expiration: 300 })).rejects.toThrow(UnsupportedFeatureError);
      return;
    }
    await conn.producer().publish({ stale: true }, { routingKey: q.name, declare: [q], expiration: 300 });
    await conn.producer().publish({ fresh: true }, { routingKey: q.name, expiration: 60_000 });
    await sleep(800);
    const got = await collect(conn, [q], 2, { timeoutMs: 800 });
    expect(got.map((m) => m.body)).toEqual([{ fresh: true }]);
    await expect(conn.simpleQueue(q).get({ timeout: 200 })).rejects.toThrow(QueueEmptyError);
  });

  it('a queue messageTtl expires what waits longer', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('qttl'), { messageTtl: 300 });
    if (!supported()) {
      await expect(conn.declare(q)).rejects.toThrow(UnsupportedFeatureError);
      return;
    }
    const sq = conn.simpleQueue(q);
    await sq.put({ old: true });
    await sleep(800);
    await sq.put({ young: true });
    const m = await sq.get({ timeout: 1000 });
    expect(m.body).toEqual({ young: true });
    await m.ack();
    await expect(sq.get({ timeout: 200 })).rejects.toThrow(QueueEmptyError);
  });
}
