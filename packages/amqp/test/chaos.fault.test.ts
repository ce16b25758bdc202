/**
 * Chaos on RabbitMQ without touching anyone else: the broker closes this test's own connection
 * (found by its connection name) every 0.7 s while a confirming publisher streams 10,000 messages
 * to a consumer on the same connection. Every confirmed message is consumed (duplicates allowed:
 * at least once, counted and printed), and nothing is left in the queue.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, Queue, type Message } from '@nori/core';
import '@nori/amqp';
import { keepClosingOwnConnections, ownConnectionName } from './own-connections.js';
import { waitFor } from './wait-for.js';
import { AMQP_URL } from '@nori/testing/brokers';

const TOTAL = 10_000;
const IN_FLIGHT = 200;
// On an idle machine the stream takes about a second, less than two closes: publishes are spread
// over about 5 s so that every run goes through several closes.
const SPACING_MS = 0.5;

it('connections closed every 0.7 s during a 10,000-message confirmed stream: 0 confirmed messages lost', async () => {
  const started = Date.now();
  const name = ownConnectionName('chaos');
  const conn = new Connection(AMQP_URL, {
    connectionName: name,
    transportOptions: { reconnectIntervalStart: 50, reconnectIntervalStep: 100, reconnectIntervalMax: 500 },
  });
  let closes = 0;
  conn.on('disconnected', () => closes++);
  conn.on('error', () => undefined); // expected while the connection is cut; the counts below judge
  const queue = new Queue(`chaos-${randomUUID().slice(0, 8)}`, { durable: true });
  const deliveries = new Map<number, number>();
  const consumer = conn.consumer([queue], { prefetch: 200, concurrency: 50 }, async (m: Message) => {
    const id = (m.body as { id: number }).id;
    deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    await m.ack();
  });
  await consumer.start();
  const stopClosing = await keepClosingOwnConnections(name, 700, 100);
  const confirmed = new Set<number>();
  const failed: unknown[] = [];
  try {
    await new Promise<void>((resolve) => {
      let next = 0;
      let settled = 0;
      const publish = (): void => {
        if (next >= TOTAL) return;
        const id = next++;
        const wait = started + id * SPACING_MS - Date.now();
        if (wait > 0) setTimeout(() => send(id), wait);
        else send(id);
      };
      const send = (id: number): void => {
        void conn
          .producer()
          .publish({ id }, { routingKey: queue.name, timeout: 45_000 })
          .then(
            () => void confirmed.add(id),
            (e: unknown) => void failed.push(e),
          )
          .then(() => {
            if (++settled === TOTAL) resolve();
            publish();
          });
      };
      for (let k = 0; k < IN_FLIGHT; k++) publish();
    });
    await waitFor(() => [...confirmed].every((id) => deliveries.has(id)), 'every confirmed message', Math.max(1000, started + 55_000 - Date.now()));
  } finally {
    await stopClosing();
  }
  const lost = [...confirmed].filter((id) => !deliveries.has(id));
  const duplicates = [...deliveries.values()].reduce((sum, n) => sum + n - 1, 0);
  console.log(
    `amqp chaos: ${TOTAL} published, ${confirmed.size} confirmed, ${failed.length} failed, ${closes} connection closes, ` +
      `${deliveries.size} distinct delivered, ${duplicates} duplicate deliveries, ${lost.length} lost, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  expect(closes).toBeGreaterThanOrEqual(3);
  expect(lost).toEqual([]);
  expect(failed).toEqual([]);
  expect(confirmed.size).toBe(TOTAL);
  await consumer.stop();
  expect((await conn.queueStatus(queue)).messageCount).toBe(0);
  await conn.deleteQueue(queue);
  await conn.close();
}, 90_000);
