/**
 * 10,000 messages flow while consumer processes are SIGKILLed at random points: afterwards every
 * id was delivered at least once and nothing of the queue is left in `unacked`.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { killConsumersWhileFlowing } from '@nori/testing/faults';
import { redisUrl } from '@nori/testing/brokers';

const URL_ = redisUrl();
const TOTAL = 10_000;

it('SIGKILLed consumers lose nothing: every id arrives, unacked is left empty', async () => {
  const queue = new Queue(`fault-kill-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(URL_);
  const producer = conn.producer();
  await conn.declare(queue);
  for (let i = 0; i < TOTAL; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => producer.publish({ id: i + j }, { routingKey: queue.name })));
  }

  // Consumers take thousands of messages a second: kill them within ~130 ms of starting.
  const run = await killConsumersWhileFlowing({
    url: URL_,
    queue: queue.name,
    imports: ['@nori/redis'],
    total: TOTAL,
    leaseMs: 1000,
    maxKills: 8,
    killWithinMs: 120,
  });

  expect(run.kills).toBeGreaterThanOrEqual(4);
  expect(run.delivered.size).toBe(TOTAL);
  // The kills landed mid-stream: messages in flight in a killed process came back.
  expect(run.redelivered.size).toBeGreaterThan(0);
  expect(await conn.queueSize(queue)).toBe(0);
  const redis = new Redis(6379, '127.0.0.1');
  const leftover = Object.values(await redis.hgetall('unacked')).filter((triple) => triple.endsWith(`"${queue.name}"]`));
  await redis.quit();
  expect(leftover).toEqual([]);
  await conn.close();
}, 120_000);
