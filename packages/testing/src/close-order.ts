/**
 * Closing a connection whose handlers are still running (past `stopTimeout`) returns all their
 * unsettled messages at once, first in line and in the order they were delivered, as a closing
 * AMQP channel returns its unacked.
 */
import { expect, it } from 'vitest';
import { Queue } from '@nori/core';
import { bodies, collect, until, type SuiteContext } from './context.js';

export function closeOrderTests(ctx: SuiteContext): void {
  it('close() returns several unsettled messages to the front in their order', async () => {
    const conn = ctx.connection();
    conn.on('error', () => undefined); // the held handlers' acks fail after close: expected
    const q = new Queue(ctx.name('close-order'));
    const producer = conn.producer();
    // One more than the consumer holds: it stays queued behind the returned ones.
    for (let n = 1; n <= 6; n++) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const consumer = conn.consumer([q], { prefetch: 5, concurrency: 5, stopTimeout: 100 }, async () => {
      started++;
      await gate;
    });
    await consumer.start();
    await until(() => started === 5, 10_000, 'five running handlers');
    await conn.close();
    release();
    const back = await collect(ctx.connection(), [q], 6, { timeoutMs: 10_000 });
    expect(bodies(back)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
    expect(back.map((m) => m.redelivered)).toEqual([true, true, true, true, true, false]);
  });
}
