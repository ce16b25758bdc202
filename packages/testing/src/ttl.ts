/** kombu's BaseTimeToLive: per-message expiration and per-queue message TTL. */
import { expect, it } from 'vitest';
import { Exchange, Queue, QueueEmptyError, UnsupportedFeatureError } from '@nori/core';
import { collect, sleep, until, type SuiteContext } from './context.js';

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

  it('a message expires at the sooner of its own expiration and the queue messageTtl', async ({ skip }) => {
    if (!supported()) skip('no messageTtl capability (checked above)');
    const conn = ctx.connection();
    const longQueue = new Queue(ctx.name('ttl-long'), { messageTtl: 60_000 });
    const shortQueue = new Queue(ctx.name('ttl-short'), { messageTtl: 300 });
    const producer = conn.producer();
    // Each queue gets one message that the smaller TTL expires and one that outlives it.
    await producer.publish({ id: 'own-expiration-sooner' }, { routingKey: longQueue.name, declare: [longQueue], expiration: 300 });
    await producer.publish({ id: 'queue-ttl-sooner' }, { routingKey: shortQueue.name, declare: [shortQueue], expiration: 60_000 });
    await sleep(800);
    // Consuming before the fresh publishes: the fresh message of the short queue has 300 ms to be taken.
    const got: string[] = [];
    const consumer = conn.consumer([longQueue, shortQueue], (m) => {
      got.push((m.body as { id: string }).id);
    });
    await consumer.start();
    await producer.publish({ id: 'fresh-long' }, { routingKey: longQueue.name, expiration: 60_000 });
    await producer.publish({ id: 'fresh-short' }, { routingKey: shortQueue.name, expiration: 60_000 });
    await until(() => got.length >= 2, 2000, 'the fresh messages').catch(() => undefined);
    await sleep(200); // an expired message delivered late would show now
    await consumer.stop();
    expect(got.sort()).toEqual(['fresh-long', 'fresh-short']);
    for (const q of [longQueue, shortQueue]) {
      expect(await conn.queueSize(q)).toBe(0);
      await conn.deleteQueue(q);
    }
  });

  it('an expired message goes to the queue’s dead-letter exchange, marked expired', async ({ skip }) => {
    if (!supported()) skip('no messageTtl capability (checked above)');
    const conn = ctx.connection();
    const dlx = new Exchange(ctx.name('ttl-dlx'), { type: 'direct' });
    const dead = new Queue(ctx.name('ttl-dead'), { exchange: dlx, routingKey: 'expired' });
    const work = new Queue(ctx.name('ttl-work'), { deadLetterExchange: dlx.name, deadLetterRoutingKey: 'expired' });
    await conn.declare(dead);
    await conn.producer().publish({ id: 'stale' }, { routingKey: work.name, declare: [work], expiration: 300 });
    await sleep(800);
    // Emulated brokers find expired messages when they reach the head of the queue, as RabbitMQ does.
    expect(await collect(conn, [work], 1, { timeoutMs: 1000 })).toEqual([]);
    const [m] = await collect(conn, [dead], 1, { timeoutMs: 5000 });
    expect(m?.body).toEqual({ id: 'stale' });
    expect((m?.headers['x-death'] as Array<{ reason: string; queue: string }>)[0]).toMatchObject({ reason: 'expired', queue: work.name });
    for (const q of [work, dead]) await conn.deleteQueue(q);
    await conn.deleteExchange(dlx);
  });
}
