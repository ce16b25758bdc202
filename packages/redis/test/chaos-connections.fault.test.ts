/**
 * Chaos on Redis connections: while 10,000 messages are published and consumed, every connection
 * of this test's own clients (found by CLIENT SETNAME, killed by CLIENT KILL ID; no other client)
 * is killed every 300 ms. Every publish resolves, every id arrives, the duplicates are counted and
 * printed, and after the lease nothing of the queue is left in flight.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { sleep } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';

const URL_ = redisUrl();
const TOTAL = 10_000;
const LEASE_MS = 1000;

async function killOwnConnections(admin: Redis, name: string): Promise<number> {
  let killed = 0;
  for (const line of String(await admin.client('LIST')).split('\n')) {
    if (!line.includes(` name=${name} `)) continue;
    const id = /^id=(\d+)/.exec(line)?.[1];
    if (id) killed += Number(await admin.client('KILL', 'ID', id).catch(() => 0));
  }
  return killed;
}

it('CLIENT KILL of the test’s connections every 300 ms: 10,000 messages, none lost, nothing left in flight', async () => {
  const id = randomUUID().slice(0, 8);
  const name = `nori-chaos-${id}`;
  const queue = new Queue(`chaos-conn-${id}`);
  const options = { connectionName: name, transportOptions: { leaseMs: LEASE_MS } };
  const [publisher, consuming] = [new Connection(URL_, options), new Connection(URL_, options)];
  const admin = new Redis(URL_);
  const got = new Map<number, number>();
  let killed = 0;
  let killing = true;
  const killer = (async () => {
    while (killing) {
      killed += await killOwnConnections(admin, name);
      await sleep(300);
    }
  })();
  try {
    await publisher.declare(queue);
    const consumer = consuming.consumer([queue], { prefetch: 100, concurrency: 20 }, async (m) => {
      const n = (m.body as { id: number }).id;
      got.set(n, (got.get(n) ?? 0) + 1);
      await m.ack();
    });
    consumer.on('error', () => undefined); // acks cut by a kill are reported; the lease brings the message back
    consuming.on('error', () => undefined);
    await consumer.start();
    const started = Date.now();
    const producer = publisher.producer();
    for (let i = 0; i < TOTAL; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) =>
          producer.publish(
            { id: i + j },
            { routingKey: queue.name, retry: true, retryPolicy: { maxRetries: 20, intervalStart: 50, intervalStep: 50, intervalMax: 200 } },
          ),
        ),
      );
    }
    while (got.size < TOTAL && Date.now() - started < 50_000) await sleep(100);
    killing = false;
    await killer;
    const deliveries = [...got.values()].reduce((a, b) => a + b, 0);
    console.log(
      `redis chaos (CLIENT KILL every 300 ms): ${got.size}/${TOTAL} delivered in ${Date.now() - started} ms, ${killed} connections killed, ${deliveries - got.size} duplicates`,
    );
    expect(got.size).toBe(TOTAL);
    expect(killed).toBeGreaterThanOrEqual(5);
    // A lease and a sweep after the last kill: whatever was cut off mid-ack is back and taken again.
    await sleep(3 * LEASE_MS);
    await consumer.stop();
    expect(await publisher.queueSize(queue)).toBe(0);
    const tail = `${JSON.stringify(queue.name)}]`;
    expect(Object.values(await admin.hgetall('unacked')).filter((entry) => entry.endsWith(tail))).toEqual([]);
  } finally {
    killing = false;
    await killer;
    await publisher.deleteQueue(queue).catch(() => undefined);
    await Promise.all([publisher.close(), consuming.close()]);
    admin.disconnect();
  }
}, 90_000);
