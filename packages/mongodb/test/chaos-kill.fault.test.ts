/**
 * Chaos on MongoDB: 10,000 messages (see TOTAL) while one of three consumer processes is SIGKILLed every
 * 0.5 s (and replaced). Nothing is lost, the duplicates are counted and printed, and after the
 * lease no message of the queue is left leased.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/mongodb';
import { killConsumersEvery } from '@nori/testing/faults';
import { mongoUrl, serverLabel, startServer, stopServer } from './server.js';

/**
 * 10,000 against a real server (MONGODB_URI); CongoDB, the in-process emulator, scans its whole
 * collection for every claim (130 of 10,000, or 755 of 1,000, delivered in 50 s here), so the emulator run is smaller.
 */
const TOTAL = process.env['MONGODB_URI'] ? 10_000 : 500;
const LEASE_MS = 1000;
beforeAll(startServer);
afterAll(stopServer);

it(`SIGKILL a consumer every 0.5 s: ${TOTAL} messages, none lost, nothing left in flight (${serverLabel})`, async () => {
  const queue = new Queue(`chaos-kill-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(mongoUrl, { transportOptions: { leaseMs: LEASE_MS } });
  const client = new MongoClient(mongoUrl);
  try {
    const producer = conn.producer();
    await conn.declare(queue);
    for (let i = 0; i < TOTAL; i += 250)
      await Promise.all(Array.from({ length: Math.min(250, TOTAL - i) }, (_, j) => producer.publish({ id: i + j }, { routingKey: queue.name })));

    const run = await killConsumersEvery({
      url: mongoUrl,
      queue: queue.name,
      imports: ['@nori/mongodb'],
      total: TOTAL,
      leaseMs: LEASE_MS,
      consumers: 3,
      everyMs: 500,
      deadlineMs: 50_000,
      settleMs: 3 * LEASE_MS,
    });
    console.log(
      `mongodb chaos (SIGKILL every 0.5 s): ${run.delivered.size}/${TOTAL} delivered in ${run.elapsedMs} ms, ${run.kills} kills, ${run.deliveries - run.delivered.size} duplicates`,
    );

    expect(run.delivered.size).toBe(TOTAL);
    expect(run.kills).toBeGreaterThanOrEqual(3);
    expect(await client.db('nori_test').collection('nori.messages').countDocuments({ queue: queue.name })).toBe(0);
  } finally {
    await client.close();
    await conn.deleteQueue(queue);
    await conn.close();
  }
}, 90_000);
