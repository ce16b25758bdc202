/**
 * A confirmed publish + consume stream of 20,000 messages through two outages: every connection
 * closed by the broker (`rabbitmqctl close_all_connections`), then a full broker restart
 * (`rabbitmqctl stop`, `rabbitmq-server -detached`). Every confirmed message is consumed, and the
 * consumer resumes without help. A restart stops every virtual host of a node, so the test runs
 * on a RabbitMQ node of its own (private-rabbit.ts), never on AMQP_URL's.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { startPrivateRabbit, type PrivateRabbit } from './private-rabbit.js';

const TOTAL = 20_000;

let rabbit: PrivateRabbit | undefined;
beforeAll(async () => {
  rabbit = await startPrivateRabbit('');
}, 150_000);
afterAll(() => rabbit?.stop(), 60_000);

it('every confirmed message is consumed through close_all_connections and a broker restart', async () => {
  const node = rabbit as PrivateRabbit;
  const conn = new Connection(node.url, { transportOptions: { reconnectIntervalStart: 200 } });
  const events: string[] = [];
  conn.on('disconnected', () => events.push('disconnected'));
  conn.on('connected', () => events.push('connected'));
  conn.on('reconnecting', () => events.push('reconnecting'));
  const queue = new Queue(`fault-outage-${randomUUID().slice(0, 8)}`, { durable: true });
  const received = new Set<number>();
  const consumer = conn.consumer([queue], { prefetch: 200, concurrency: 50 }, async (m) => {
    received.add((m.body as { id: number }).id);
    await m.ack();
  });
  await consumer.start();
  const producer = conn.producer();

  const confirmed: number[] = [];
  const failed: unknown[] = [];
  let outages = 0;
  let restarted: Promise<void> | undefined;
  for (let start = 0; start < TOTAL; start += 500) {
    if (start === 5_000) {
      await node.ctl('close_all_connections', 'nori fault test');
      outages++;
    }
    if (start === 12_000) {
      await node.ctl('stop');
      restarted = node.start();
      outages++;
    }
    const batch = Array.from({ length: 500 }, (_, i) => start + i);
    await Promise.all(
      batch.map((id) =>
        producer.publish({ id }, { routingKey: queue.name, timeout: 60_000 }).then(
          () => confirmed.push(id),
          (e: unknown) => failed.push(e),
        ),
      ),
    );
  }
  await restarted;
  const deadline = Date.now() + 60_000;
  while (confirmed.some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));

  expect(outages).toBe(2);
  // The state machine: each outage is disconnected → reconnecting (one or more) → connected.
  const compact = events.filter((e, i) => e !== events[i - 1]);
  expect(compact.slice(0, 7)).toEqual(['connected', 'disconnected', 'reconnecting', 'connected', 'disconnected', 'reconnecting', 'connected']);
  expect(failed).toEqual([]);
  expect(confirmed.length).toBe(TOTAL);
  expect(confirmed.filter((id) => !received.has(id))).toEqual([]);
  await consumer.stop();
  await conn.deleteQueue(queue);
  await conn.close();
}, 180_000);
