/**
 * A message a Python kombu consumer holds is kombu's to restore, not nori's: nori's sweep brings
 * back only the entries nori claimed (exchange '' in the `unacked` triple), even when its own
 * visibility timeout is far shorter than kombu's. A private Redis, so no other sweep runs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Connection, Exchange, Queue } from '@nori/core';
import '@nori/redis';
import { sleep } from '@nori/testing';
import { kombuHold } from '@nori/testing/kombu';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

let server: PrivateRedis;
beforeAll(async () => {
  server = await startPrivateRedis();
});
afterAll(() => server.stop());

it('a nori sweep leaves alone a message a Python kombu consumer holds past nori’s visibility timeout', async () => {
  const id = randomUUID().slice(0, 8);
  const exchange = new Exchange(`held-x-${id}`, { type: 'direct' });
  const q = new Queue(`held-${id}`, { exchange, routingKey: 'held' });
  // nori counts anything older than one second as lapsed and sweeps five times a second.
  const conn = new Connection(server.url, { transportOptions: { visibility_timeout: 1, restoreIntervalMs: 200 } });
  const redis = new Redis(server.port, '127.0.0.1');
  const holder = kombuHold(server.url, { queue: q.name, exchange: exchange.name, routing_key: 'held', transport_options: { visibility_timeout: 3600 } });
  try {
    await conn.producer().publish({ n: 'held' }, { exchange, routingKey: 'held', declare: [q] });
    const tag = await holder.tag;
    expect(JSON.parse((await redis.hget('unacked', tag)) ?? '[]')[1]).toBe(exchange.name);
    await sleep(2500);
    expect(await redis.llen(q.name)).toBe(0);
    expect(await redis.hexists('unacked', tag)).toBe(1);
    expect(await conn.queueSize(q)).toBe(0);
  } finally {
    await holder.release();
    await conn.close();
    redis.disconnect();
  }
}, 30_000);
