/**
 * Chaos on Redis: 10,000 messages while one of three consumer processes is SIGKILLed every 0.5 s
 * (and replaced). Nothing is lost, the duplicates (messages a killed process had taken) are counted
 * and printed, and after the lease nothing of the queue is left in flight.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { killConsumersEvery } from '@nori/testing/faults';
import { redisUrl } from '@nori/testing/brokers';

const URL_ = redisUrl();
const TOTAL = 10_000;
const LEASE_MS = 1000;

it('SIGKILL a consumer every 0.5 s: 10,000 messages, none lost, nothing left in flight', async () => {
  const queue = new Queue(`chaos-kill-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(URL_, { transportOptions: { leaseMs: LEASE_MS } });
  const redis = new Redis(6379, '127.0.0.1');
  try {
    const producer = conn.producer();
    await conn.declare(queue);
    for (let i = 0; i < TOTAL; i += 1000)
      await Promise.all(Array.from({ length: 1000 }, (_, j) => producer.publish({ id: i + j }, { routingKey: queue.name })));

    const run = await killConsumersEvery({
      url: URL_,
      queue: queue.name,
      imports: ['@nori/redis'],
      total: TOTAL,
      leaseMs: LEASE_MS,
      consumers: 3,
      everyMs: 500,
      deadlineMs: 50_000,
      settleMs: 3 * LEASE_MS,
      // Idle, three consumers drained 10,000 messages before the first kill (a CI run): 20 ms a
      // message at 20 handlers per process spreads the stream over several seconds of kills.
      handleMs: 20,
    });
    console.log(
      `redis chaos (SIGKILL every 0.5 s): ${run.delivered.size}/${TOTAL} delivered in ${run.elapsedMs} ms, ${run.kills} kills, ${run.deliveries - run.delivered.size} duplicates`,
    );

    expect(run.delivered.size).toBe(TOTAL);
    expect(run.kills).toBeGreaterThanOrEqual(3);
    expect(await conn.queueSize(queue)).toBe(0);
    const tail = `${JSON.stringify(queue.name)}]`;
    const inFlight = Object.values(await redis.hgetall('unacked')).filter((entry) => entry.endsWith(tail));
    expect(inFlight).toEqual([]);
  } finally {
    await conn.deleteQueue(queue);
    await conn.close();
    redis.disconnect();
  }
}, 90_000);
