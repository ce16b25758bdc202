/**
 * A publish's LPUSH is written when the store issues it, not in an ioredis autopipeline: the
 * store already makes a tick's publishes to a queue one LPUSH, so an autopipeline around it only
 * cost a Pipeline a publish (the largest allocation of a client sending tasks one at a time,
 * #28.3) and an event-loop turn. Counted as the Pipelines the client makes while publishing.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { redisUrl } from '@nori/testing/brokers';

const pipeline = Redis.prototype.pipeline;
afterEach(() => {
  Redis.prototype.pipeline = pipeline;
});

it('publishes one at a time without a Pipeline each', async () => {
  const q = new Queue(`publish-write-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(redisUrl());
  const producer = conn.producer();
  try {
    await producer.publish({ n: -1 }, { routingKey: q.name, declare: [q] });
    let made = 0;
    Redis.prototype.pipeline = function (this: Redis, ...args: Parameters<Redis['pipeline']>) {
      made++;
      return pipeline.apply(this, args);
    };
    for (let n = 0; n < 20; n++) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    expect(made).toBe(0);
    expect(await conn.purge(q.name)).toBe(21);
  } finally {
    await conn.deleteQueue(q.name).catch(() => undefined);
    await conn.close();
  }
});
