/**
 * Consumer processes SIGKILLed mid-stream on MongoDB: every message they held comes back when its
 * lease lapses and is delivered again; nothing is left in the collection.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/mongodb';
import { killConsumersWhileFlowing } from '@nori/testing/faults';
import { mongoUrl, serverLabel, startServer, stopServer } from './server.js';

const TOTAL = 2_000;
beforeAll(startServer);
afterAll(stopServer);

it(`SIGKILLed consumers lose nothing (${serverLabel})`, async () => {
  const queue = new Queue(`fault-kill-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(mongoUrl);
  const producer = conn.producer();
  await conn.declare(queue);
  for (let i = 0; i < TOTAL; i += 200) {
    await Promise.all(Array.from({ length: 200 }, (_, j) => producer.publish({ id: i + j }, { routingKey: queue.name })));
  }

  const run = await killConsumersWhileFlowing({
    url: mongoUrl,
    queue: queue.name,
    imports: ['@nori/mongodb'],
    total: TOTAL,
    leaseMs: 1000,
    maxKills: 4,
    killWithinMs: 400,
  });

  expect(run.kills).toBeGreaterThanOrEqual(2);
  expect(run.delivered.size).toBe(TOTAL);
  expect(run.redelivered.size).toBeGreaterThan(0);
  expect(await conn.queueSize(queue)).toBe(0);
  await conn.deleteQueue(queue);
  await conn.close();
}, 120_000);
