/**
 * nori's leases against kombu's own visibility-timeout sweep (Python kombu 5.2's
 * QoS.restore_visible): a Python worker sharing the Redis must not steal a message a nori
 * consumer is still working on, and must restore one whose nori consumer died. Database 7, where
 * no other test's nori sweep runs, so what comes back was brought back by Python.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Connection, parseUrl, Queue, silentLogger, type Message } from '@nori/core';
import { RedisStore } from '@nori/redis';
import { sleep } from '@nori/testing';
import { kombuSweep } from '@nori/testing/kombu';
import { redisUrl } from '@nori/testing/brokers';

const BROKER = redisUrl(7);
const VISIBILITY_TIMEOUT = 2; // seconds, the same on both sides
const redis = new Redis(BROKER);
afterAll(() => redis.disconnect());

/** `unacked` keys holding the message with this delivery tag (nori files each claim under a key of its own). */
async function inFlight(tag: string): Promise<string[]> {
  const entries = await redis.hgetall('unacked');
  return Object.keys(entries).filter((key) => entries[key]?.includes(`"delivery_tag":"${tag}"`));
}

it('a Python sweep leaves a nori message whose handler is still running alone', async () => {
  const q = new Queue(`sweep-live-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(BROKER, { transportOptions: { visibility_timeout: VISIBILITY_TIMEOUT, leaseMs: 1000 } });
  try {
    await conn.producer().publish({ n: 'live' }, { routingKey: q.name, declare: [q] });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: (m: Message) => void;
    const running = new Promise<Message>((resolve) => (started = resolve));
    const consumer = conn.consumer([q], async (m) => {
      started(m);
      await held; // a long task: nori renews its lease meanwhile
      await m.ack();
    });
    await consumer.start();
    const message = await running;
    await sleep(VISIBILITY_TIMEOUT * 1000 + 1500); // longer than kombu's visibility timeout since the claim
    await kombuSweep(BROKER, VISIBILITY_TIMEOUT);
    expect(await redis.llen(q.name)).toBe(0);
    const [key, ...more] = await inFlight(String(message.deliveryTag));
    expect(more).toEqual([]);
    expect(await redis.zscore('unacked_index', key as string)).not.toBeNull();
    release();
    await consumer.stop();
    expect(await inFlight(String(message.deliveryTag))).toEqual([]);
    expect(await redis.zscore('unacked_index', key as string)).toBeNull();
  } finally {
    await conn.deleteQueue(q).catch(() => undefined);
    await conn.close();
  }
}, 20_000);

it('a Python sweep restores a message whose nori consumer stopped renewing, marked redelivered', async () => {
  const q = new Queue(`sweep-dead-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(BROKER);
  await conn.producer().publish({ n: 'orphan' }, { routingKey: q.name, declare: [q] });
  await conn.close();
  // A consumer that claims and then dies: a bare store, whose lease nobody renews.
  const store = new RedisStore(parseUrl(BROKER), { transportOptions: { visibility_timeout: VISIBILITY_TIMEOUT }, logger: silentLogger, connectTimeout: 2000 });
  await store.connect();
  const [claimed] = await store.claim(q.name, 1, 300);
  await store.close();
  if (!claimed || !('envelope' in claimed)) throw new Error('nothing claimed');
  const tag = claimed.envelope.properties.delivery_tag;
  expect(await inFlight(tag)).toEqual([claimed.token]);
  await sleep(800); // the lease lapsed; nothing in this database sweeps but Python
  expect(await redis.llen(q.name)).toBe(0);
  await kombuSweep(BROKER, VISIBILITY_TIMEOUT);
  expect(await redis.llen(q.name)).toBe(1);
  expect(await inFlight(tag)).toEqual([]);
  const back = new Connection(BROKER);
  try {
    const m = await back.simpleQueue(q).get({ timeout: 2000 });
    expect([m.body, m.redelivered, m.deliveryTag]).toEqual([{ n: 'orphan' }, true, tag]);
    await m.ack();
  } finally {
    await back.deleteQueue(q).catch(() => undefined);
    await back.close();
  }
}, 20_000);
