/**
 * RabbitMQ flow control on a node of the test's own, started with a memory watermark it is
 * already over (a memory alarm from the start): the connection is blocked on its first publish.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BrokerBlockedError, Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { startPrivateRabbit, type PrivateRabbit } from './private-rabbit.js';

let rabbit: PrivateRabbit | undefined;
beforeAll(async () => {
  rabbit = await startPrivateRabbit('vm_memory_high_watermark.relative = 0.0001');
}, 120_000);
afterAll(() => rabbit?.stop(), 60_000);

it('blocked: events with the reason; publishes wait, then fail with BrokerBlockedError; unblocked: the waiting publish goes out', async () => {
  const conn = new Connection((rabbit as PrivateRabbit).url);
  const events: string[] = [];
  conn.on('blocked', (reason) => events.push(`blocked: ${reason}`));
  conn.on('unblocked', () => events.push('unblocked'));
  const queue = new Queue(`flow-${randomUUID().slice(0, 8)}`, { durable: false });
  try {
    await conn.declare(queue);
    const producer = conn.producer();
    const started = Date.now();
    // Written before the broker said it blocks: it waits for a confirm that does not come.
    const first = await producer.publish('first', { routingKey: queue.name, timeout: 1500 }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(BrokerBlockedError);
    expect((first as BrokerBlockedError).reason).toBe('low on memory');
    expect((first as Error).message).toMatch(/the broker is blocking publishes \(low on memory\)/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(events).toEqual(['blocked: low on memory']);
    // Made while blocked: held back, not written, and failed at its deadline.
    await expect(producer.publish('held', { routingKey: queue.name, timeout: 500 })).rejects.toThrow(BrokerBlockedError);
    // A blocked connection closes at once (the broker answers nothing while it blocks).
    const other = new Connection((rabbit as PrivateRabbit).url);
    const blocked = new Promise((resolve) => other.once('blocked', resolve));
    void other
      .producer()
      .publish('from the other', { routingKey: queue.name, timeout: 60_000 })
      .catch(() => undefined);
    await blocked;
    const closing = Date.now();
    await other.close();
    expect(Date.now() - closing).toBeLessThan(5000);
    const waiting = producer.publish('after the alarm', { routingKey: queue.name, timeout: 30_000 });
    await (rabbit as PrivateRabbit).ctl('set_vm_memory_high_watermark', '0.9');
    await waiting;
    expect(events).toEqual(['blocked: low on memory', 'unblocked']);
    const bodies: unknown[] = [];
    for (let n = (await conn.queueStatus(queue)).messageCount; n > 0; n--) {
      const m = await conn.simpleQueue(queue).getNowait();
      bodies.push(m.body);
      await m.ack();
    }
    // 'first' was written and may have been read once the broker unblocked; 'held' never was.
    expect(bodies).toContain('after the alarm');
    expect(bodies).not.toContain('held');
    expect(bodies.length).toBeLessThanOrEqual(3);
  } finally {
    await conn.close();
  }
}, 60_000);
