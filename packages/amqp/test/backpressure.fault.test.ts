/**
 * A burst of 20,000 publishes issued at once (so the channel's write buffer fills and publishes
 * wait for 'drain'), with every connection closed by the broker while the burst is in flight.
 * The channel that was full never drains; the publishes waiting on it must go out again on the
 * new connection, not wait for ever. Every publish is confirmed and every message consumed. The
 * connections closed are those of AMQP_URL's virtual host.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { AMQP_URL, AMQP_VHOST } from '@nori/testing/brokers';

const TOTAL = 20_000;

it('publishes held back by a full channel survive a connection loss: all confirmed, all consumed', async () => {
  const conn = new Connection(AMQP_URL, { transportOptions: { reconnectIntervalStart: 200 } });
  const queue = new Queue(`fault-burst-${randomUUID().slice(0, 8)}`, { durable: true });
  try {
    await conn.declare(queue);
    const producer = conn.producer();
    let confirmed = 0;
    const failed: unknown[] = [];
    const burst = Array.from({ length: TOTAL }, (_, id) =>
      producer.publish({ id }, { routingKey: queue.name, timeout: 60_000 }).then(
        () => void confirmed++,
        (e: unknown) => void failed.push(e),
      ),
    );
    // Cut the connection once part of the burst is confirmed and the rest still queued behind it.
    while (confirmed < 2_000) await new Promise((r) => setTimeout(r, 5));
    expect(confirmed).toBeLessThan(TOTAL);
    // Only AMQP_URL's virtual host: with a vhost of its own, nobody else's connections.
    execFileSync('rabbitmqctl', ['close_all_connections', '--vhost', AMQP_VHOST, 'nori back-pressure test'], { stdio: 'ignore' });
    await Promise.all(burst);
    expect(failed).toEqual([]);
    expect(confirmed).toBe(TOTAL);

    const received = new Set<number>();
    await new Promise<void>((resolve) => {
      const consumer = conn.consumer([queue], { prefetch: 1000, concurrency: 100 }, async (m) => {
        received.add((m.body as { id: number }).id);
        await m.ack();
        if (received.size === TOTAL) void consumer.stop().then(resolve);
      });
      void consumer.start();
    });
    expect(received.size).toBe(TOTAL);
  } finally {
    await conn.deleteQueue(queue).catch(() => undefined);
    await conn.close();
  }
}, 120_000);
