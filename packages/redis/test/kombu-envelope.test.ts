/**
 * Envelopes as other kombu writers leave them in Redis: kombu encodes the body only when the
 * channel has a `body_encoding`; without one the body is the serialized text itself.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { redisUrl } from '@nori/testing/brokers';

const BROKER = redisUrl();
const redis = new Redis(redisUrl());
afterAll(() => redis.disconnect());

const rawEnvelope = (queue: string, body: string, bodyEncoding: string | null | undefined): string =>
  JSON.stringify({
    body,
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: {},
    properties: {
      ...(bodyEncoding !== undefined && { body_encoding: bodyEncoding }),
      delivery_tag: randomUUID(),
      delivery_info: { exchange: '', routing_key: queue },
      priority: 0,
      delivery_mode: 2,
    },
  });

it('a body without body_encoding (absent or null) is the serialized text, not base64', async () => {
  const q = new Queue(`plain-body-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(BROKER);
  try {
    const sent = [
      { text: 'héllo ✓', n: 1 },
      { text: 'plain', n: 2 },
    ];
    // kombu's list is LPUSHed and popped from the right: the first pushed is the first consumed.
    await redis.lpush(q.name, rawEnvelope(q.name, JSON.stringify(sent[0]), undefined));
    await redis.lpush(q.name, rawEnvelope(q.name, JSON.stringify(sent[1]), null));
    const sq = conn.simpleQueue(q);
    const got: unknown[] = [];
    for (let i = 0; i < sent.length; i++) {
      const m = await sq.get({ timeout: 2000 });
      got.push(m.body);
      await m.ack();
    }
    expect(got).toEqual(sent);
  } finally {
    await conn.deleteQueue(q);
    await conn.close();
  }
});
