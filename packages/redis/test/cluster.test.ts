/**
 * nori on a real three-master Redis Cluster (`redis+cluster://`): the conformance suite, and the
 * key layout that makes it possible (every key of a queue in one hash slot, queues spread over the
 * masters).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import { Keys } from '@nori/redis';
import { runConformance } from '@nori/testing';
import { clusterUrl, masterOf, slotOf, startCluster, stopCluster } from './cluster.js';

beforeAll(startCluster, 60_000);
afterAll(stopCluster);

runConformance({
  name: 'redis-cluster',
  url: clusterUrl,
  deadUrl: 'redis+cluster://127.0.0.1:1',
  childImports: ['@nori/redis'],
  connectionOptions: { transportOptions: { leaseMs: 1500 } },
});

describe('redis cluster key layout', () => {
  it('puts every key of a queue in one slot, and different queues on different masters', async () => {
    const keys = new Keys('', 0, undefined, true);
    const masters = new Set<number>();
    for (const queue of ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta']) {
      const all = [...keys.buckets(queue), keys.delayed(queue), keys.unacked(queue), keys.unackedIndex(queue)];
      const slots = new Set(await Promise.all(all.map(slotOf)));
      expect(slots.size).toBe(1);
      masters.add(await masterOf([...slots][0] as number));
    }
    expect(masters.size).toBeGreaterThan(1);
  });

  it('delivers across queues that live on different masters, with priorities and acks', async () => {
    const conn = new Connection(clusterUrl);
    try {
      const queues = ['spread.a', 'spread.b', 'spread.c'].map((name) => new Queue(name, { maxPriority: 9 }));
      const producer = conn.producer();
      for (const queue of queues) {
        for (const priority of [1, 9, 5]) await producer.publish({ queue: queue.name, priority }, { routingKey: queue.name, declare: [queue], priority });
      }
      for (const queue of queues) {
        const simple = conn.simpleQueue(queue);
        const got: number[] = [];
        for (let i = 0; i < 3; i++) {
          const message = await simple.get({ timeout: 2000 });
          got.push((message.body as { priority: number }).priority);
          await message.ack();
        }
        expect(got).toEqual([9, 5, 1]);
        expect(await simple.qsize()).toBe(0);
      }
    } finally {
      await conn.close();
    }
  });
});
