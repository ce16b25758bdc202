/**
 * kombu's BasePriority: higher first, FIFO within a priority, requeue keeps priority. Priorities
 * 1, 5 and 9 fall in different buckets of kombu's Redis layout (4 buckets), so every transport
 * can order them.
 */
import { expect, it } from 'vitest';
import { Queue, UnsupportedFeatureError, type Message } from '@nori/core';
import { bodies, collect, sleep, type SuiteContext } from './context.js';

export function priorityTests(ctx: SuiteContext, supported: () => boolean): void {
  it('orders by priority (higher first), FIFO within a priority', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('prio'), { maxPriority: 10 });
    if (!supported()) {
      await expect(conn.declare(q)).rejects.toThrow(UnsupportedFeatureError);
      return;
    }
    const producer = conn.producer();
    await producer.publish('first', { routingKey: q.name, declare: [q], priority: 1 });
    await producer.publish('second', { routingKey: q.name, priority: 5 });
    await producer.publish('third', { routingKey: q.name, priority: 1 });
    await producer.publish('fourth', { routingKey: q.name, priority: 5 });
    await sleep(200);
    const sq = conn.simpleQueue(q);
    const got: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await sq.get({ timeout: 2000 });
      got.push(m.body);
      await m.ack();
    }
    expect(got).toEqual(['second', 'fourth', 'first', 'third']);
  });

  it('requeued messages keep their priority and order', async () => {
    if (!supported()) return;
    const conn = ctx.connection();
    const q = new Queue(ctx.name('prq'), { maxPriority: 10 });
    const producer = conn.producer();
    await producer.publish('first', { routingKey: q.name, declare: [q], priority: 1 });
    await producer.publish('second', { routingKey: q.name, priority: 5 });
    await producer.publish('third', { routingKey: q.name, priority: 1 });
    await sleep(200);
    const sq = conn.simpleQueue(q);
    const held: Message[] = [];
    for (let i = 0; i < 3; i++) held.push(await sq.get({ timeout: 2000 }));
    for (const m of held) await m.requeue();
    await producer.publish('fourth', { routingKey: q.name, priority: 9 });
    await sleep(200);
    const got: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await sq.get({ timeout: 2000 });
      got.push(m.body);
      await m.ack();
    }
    expect(got).toEqual(['fourth', 'second', 'first', 'third']);
  });

  it('SimpleQueue with maxPriority: high, then low, low', async () => {
    if (!supported()) return;
    const conn = ctx.connection();
    const sq = conn.simpleQueue(ctx.name('sqp'), { queueOptions: { maxPriority: 10 } });
    await sq.put('low-1', { priority: 1 });
    await sq.put('high', { priority: 7 });
    await sq.put('low-2', { priority: 1 });
    await sleep(200);
    const got = await collect(conn, [sq.queue], 3);
    expect(bodies(got)).toEqual(['high', 'low-1', 'low-2']);
  });
}
