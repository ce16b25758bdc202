/**
 * Store.restore with a token whose claim is gone (acked, or already restored and claimed again
 * under a new token) restores nothing; an unreadable in-flight entry goes back as it was and is
 * reported as unreadable at its next claim, without losing the readable one restored beside it.
 * A key prefix of its own, so the `unacked` hash is this test's alone on the shared Redis.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import type { Claimed, Envelope, Unreadable } from '@nori/core/spi';
import { redisUrl } from '@nori/testing/brokers';
import { prefixedStore } from './prefixed-store.js';

const URL = redisUrl();
const LEASE_MS = 60_000; // nothing lapses during the test
const { prefix, transportOptions, redis, store } = prefixedStore('restore_stale');

/** A fresh queue holding these bodies, published through a Connection (the envelope it writes). */
async function queueWith(...ns: number[]): Promise<string> {
  const q = new Queue(`stale-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(URL, { transportOptions });
  try {
    for (const n of ns) await conn.producer().publish({ n }, { routingKey: q.name, declare: [q] });
  } finally {
    await conn.close();
  }
  return q.name;
}

function readable(items: Array<Claimed | Unreadable>): Claimed[] {
  return items.map((c) => {
    if (!('envelope' in c)) throw new Error(`unreadable claim: ${c.text}`);
    return c;
  });
}

const body = (envelope: Envelope): unknown =>
  JSON.parse(Buffer.from(envelope.body, envelope.properties.body_encoding === 'base64' ? 'base64' : 'utf8').toString());

it('restoring an acked claim, or one restored and claimed again, restores nothing', async () => {
  const acked = await queueWith(1);
  const [first] = readable(await store().claim(acked, 1, LEASE_MS));
  expect(await store().ack(acked, [first!.token])).toBe(1);
  expect(await store().restore(acked, [first!.token], 'front')).toBe(0);
  expect(await store().size(acked)).toBe(0);
  expect(await store().claim(acked, 1, LEASE_MS)).toEqual([]);

  const moved = await queueWith(2);
  const [old] = readable(await store().claim(moved, 1, LEASE_MS));
  expect(await store().restore(moved, [old!.token], 'back')).toBe(1);
  const [current] = readable(await store().claim(moved, 1, LEASE_MS));
  expect(current!.token).not.toBe(old!.token);
  expect(await store().restore(moved, [old!.token], 'front')).toBe(0);
  expect(await store().size(moved)).toBe(0);
  // The current owner still holds it.
  expect(await store().ack(moved, [current!.token])).toBe(1);
});

it('an unreadable in-flight entry goes back as it was, beside the readable one, and is reported at its next claim', async () => {
  const q = await queueWith(1, 2);
  const [good, bad] = readable(await store().claim(q, 2, LEASE_MS));
  await redis.hset(`${prefix}unacked`, bad!.token, 'not json at all');
  expect(await store().restore(q, [good!.token, bad!.token], 'front')).toBe(2);
  const [again, garbage] = await store().claim(q, 2, LEASE_MS);
  expect(again && 'envelope' in again ? body(again.envelope) : again).toEqual({ n: 1 });
  expect(garbage && 'text' in garbage ? [garbage.text, garbage.error.code] : garbage).toEqual(['not json at all', 'ERR_NORI_DECODE']);
  expect(await store().ack(q, [again!.token, garbage!.token])).toBe(2);
  expect(await store().size(q)).toBe(0);
});
