/**
 * Items a peer wrote that nori cannot read (not JSON; a property that is not text) are taken out
 * of the queue on their own, dead-lettered where the queue has a dead-letter exchange, with an
 * `error` event; the good messages claimed in the same batch are delivered.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Connection, DecodeError, EncodeError, Exchange, Queue } from '@nori/core';
import { collect } from '@nori/testing';
import '@nori/redis';
import { redisUrl } from '@nori/testing/brokers';

const URL_ = redisUrl();
const redis = new Redis(URL_);
afterAll(() => redis.quit());

/** kombu's envelope with a correlation_id that is an object: `String()` of it throws. */
const objectProperty = JSON.stringify({
  body: Buffer.from('{"n":"bad-property"}').toString('base64'),
  'content-encoding': 'utf-8',
  'content-type': 'application/json',
  headers: {},
  properties: { body_encoding: 'base64', delivery_tag: randomUUID(), delivery_info: { exchange: '', routing_key: 'x' }, correlation_id: { toString: 1 } },
});

it('one unreadable item does not strand its batch: the good ones arrive, the bad ones are dead-lettered with an error', async () => {
  const id = randomUUID().slice(0, 8);
  const dlx = new Exchange(`bad-dlx-${id}`, { type: 'direct' });
  const dead = new Queue(`bad-dead-${id}`, { exchange: dlx, routingKey: 'dead' });
  const q = new Queue(`bad-items-${id}`, { deadLetterExchange: dlx.name, deadLetterRoutingKey: 'dead' });
  const conn = new Connection(URL_, { transportOptions: { leaseMs: 1000 } });
  const errors: Error[] = [];
  conn.on('error', (e) => errors.push(e));
  try {
    await conn.declare(q);
    await conn.declare(dead);
    const producer = conn.producer();
    await producer.publish({ n: 1 }, { routingKey: q.name });
    await redis.lpush(q.name, 'this is not json');
    await producer.publish({ n: 2 }, { routingKey: q.name });
    await redis.lpush(q.name, objectProperty);
    await producer.publish({ n: 3 }, { routingKey: q.name });

    const got = await collect(conn, [q], 3, { timeoutMs: 5000 });
    expect(got.map((m) => m.body)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof DecodeError && e.message.includes(q.name))).toBe(true);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/not valid JSON[\s\S]*correlation_id/);

    // As they were: the unreadable text as a raw body, the other with its odd property.
    const deadLettered = (await redis.lrange(dead.name, 0, -1)).reverse().map((text) => JSON.parse(text) as { body: string; properties: object });
    expect(deadLettered.map((e) => Buffer.from(e.body, 'base64').toString())).toEqual(['this is not json', '{"n":"bad-property"}']);
    expect(deadLettered[1]?.properties).toMatchObject({ correlation_id: { toString: 1 } });
    expect(await conn.queueSize(q)).toBe(0);
    const inFlight = Object.values(await redis.hgetall('unacked')).filter((entry) => entry.endsWith(`"${q.name}"]`));
    expect(inFlight).toEqual([]);
  } finally {
    await conn.deleteQueue(q);
    await conn.deleteQueue(dead);
    await conn.deleteExchange(dlx);
    await conn.close();
  }
});

it('without a dead-letter exchange an unreadable item is dropped with an error and the batch still arrives', async () => {
  const q = new Queue(`bad-items-nodlx-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(URL_);
  const errors: Error[] = [];
  conn.on('error', (e) => errors.push(e));
  try {
    await conn.declare(q);
    await redis.lpush(q.name, '{"deep":' + '['.repeat(1200) + ']'.repeat(1200) + '}');
    await conn.producer().publish({ n: 1 }, { routingKey: q.name });
    const got = await collect(conn, [q], 1, { timeoutMs: 5000 });
    expect(got.map((m) => m.body)).toEqual([{ n: 1 }]);
    expect(errors.map((e) => e.constructor.name)).toEqual(['DecodeError']);
    expect(await conn.queueSize(q)).toBe(0);
  } finally {
    await conn.deleteQueue(q);
    await conn.close();
  }
});

it('headers nested deeper than any reader parses are refused at publish with EncodeError, and nothing is stored', async () => {
  const q = new Queue(`bad-items-deep-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(URL_);
  try {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 1100; i++) deep = { d: deep };
    await conn.declare(q);
    await expect(conn.producer().publish({ n: 1 }, { routingKey: q.name, headers: { deep } })).rejects.toThrow(EncodeError);
    await expect(conn.producer().publish({ n: 1 }, { routingKey: q.name, headers: { deep } })).rejects.toThrow(/deeper than 100 levels/);
    expect(await conn.queueSize(q)).toBe(0);
  } finally {
    await conn.deleteQueue(q);
    await conn.close();
  }
});
