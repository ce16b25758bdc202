/**
 * A confirmed publish + consume stream of 20,000 messages through two outages: every connection
 * closed by the broker (`rabbitmqctl close_all_connections`), then a full broker restart
 * (`rabbitmqctl stop`, `rabbitmq-server -detached`). Every confirmed message is consumed, and the
 * consumer resumes without help.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { AMQP_URL } from '@nori/testing/brokers';

const TOTAL = 20_000;

function rabbitUp(): boolean {
  try {
    execFileSync('rabbitmq-diagnostics', ['-q', 'check_port_connectivity'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function startRabbit(): Promise<void> {
  if (!rabbitUp()) {
    try {
      execFileSync('rabbitmq-server', ['-detached'], { stdio: 'ignore' });
    } catch {
      // already starting
    }
  }
  for (let i = 0; i < 120 && !rabbitUp(); i++) await new Promise((r) => setTimeout(r, 500));
}

afterAll(startRabbit, 90_000);

it('every confirmed message is consumed through close_all_connections and a broker restart', async () => {
  const conn = new Connection(AMQP_URL, { transportOptions: { reconnectIntervalStart: 200 } });
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
  for (let start = 0; start < TOTAL; start += 500) {
    if (start === 5_000) {
      execFileSync('rabbitmqctl', ['close_all_connections', 'nori fault test'], { stdio: 'ignore' });
      outages++;
    }
    if (start === 12_000) {
      execFileSync('rabbitmqctl', ['stop'], { stdio: 'ignore' });
      void startRabbit();
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
