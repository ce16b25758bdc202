/**
 * Leases on transports that emulate acks (Redis, MongoDB, memory): a handler that outlives its
 * lease keeps the message while it runs (the consumer renews it), and a noAck delivery leaves
 * nothing in flight that a sweep could bring back. On AMQP the broker holds the message for the
 * channel, so the same assertions hold without leases.
 */
import { expect, it } from 'vitest';
import { Queue, type Message } from '@nori/core';
import { child, kill } from './child.js';
import { sleep, type SuiteContext } from './context.js';

/** Short, so a lapse shows quickly; long enough that a busy machine still renews in time. */
const LEASE_MS = 1000;
const shortLease = { transportOptions: { leaseMs: LEASE_MS } };

export function leaseTests(ctx: SuiteContext): void {
  it('a handler running three times the lease is delivered once, while a second consumer waits', async () => {
    const [a, b] = [ctx.connection(undefined, shortLease), ctx.connection(undefined, shortLease)];
    const q = new Queue(ctx.name('lease'));
    await a.producer().publish({ long: true }, { routingKey: q.name, declare: [q] });
    const deliveries: Array<{ by: string; redelivered: boolean }> = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const handler = (by: string) => async (m: Message) => {
      deliveries.push({ by, redelivered: m.redelivered });
      await sleep(3 * LEASE_MS);
      await m.ack();
      finished();
    };
    const consumers = [a.consumer([q], { prefetch: 1 }, handler('a')), b.consumer([q], { prefetch: 1 }, handler('b'))];
    await Promise.all(consumers.map((c) => c.start()));
    await done;
    await sleep(LEASE_MS); // a lease that lapsed near the end would be swept and delivered by now
    await Promise.all(consumers.map((c) => c.stop()));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.redelivered).toBe(false);
    expect(await a.queueSize(q)).toBe(0);
    await a.deleteQueue(q);
  }, 30_000);

  it.skipIf(!ctx.options.childImports || !ctx.options.leases)(
    'a handler blocking the event loop three times the lease keeps its message and those prefetched with it',
    async () => {
      const conn = ctx.connection(undefined, shortLease);
      const q = new Queue(ctx.name('blocked'));
      const ids = ['a', 'b', 'c', 'd', 'e'];
      await conn.declare(q);
      const base = ctx.options.connectionOptions ?? {};
      const options = JSON.stringify({ ...base, transportOptions: { ...base.transportOptions, ...shortLease.transportOptions } });
      const blocking = child('child-blocking', [ctx.options.url, q.name, `block:${3 * LEASE_MS}`, options, JSON.stringify(ctx.options.childImports), '5']);
      const other: string[] = [];
      const consumer = conn.consumer([q], { prefetch: 5 }, (m) => {
        other.push((m.body as { id: string }).id);
      });
      try {
        await blocking.line('keeper', 20_000);
        // One tick, one batch: the child claims all five and blocks on the first.
        await Promise.all(ids.map((id) => conn.producer().publish({ id }, { routingKey: q.name })));
        await blocking.line('got a', 20_000);
        // Its event loop is blocked now, its renewal timer with it; a lapse would go to this consumer.
        await consumer.start();
        for (const id of ids) await blocking.line(`done ${id}`, 20_000);
        await sleep(2 * LEASE_MS); // a lease that lapsed near the end would be swept and delivered by now
        expect(other).toEqual([]);
        expect(blocking.lines.filter((l) => l.startsWith('got '))).toEqual(ids.map((id) => `got ${id}`));
        expect(blocking.lines.filter((l) => l.startsWith('error'))).toEqual([]);
      } finally {
        await consumer.stop();
        await kill(blocking.proc);
        await conn.deleteQueue(q);
      }
    },
    60_000,
  );

  it('noAck deliveries leave nothing in flight: nothing comes back after the consumer stops', async () => {
    const conn = ctx.connection(undefined, shortLease);
    const q = new Queue(ctx.name('noack'));
    const producer = conn.producer();
    for (const n of [1, 2, 3]) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    const got: unknown[] = [];
    let all!: () => void;
    const received = new Promise<void>((resolve) => (all = resolve));
    const consumer = conn.consumer([q], { noAck: true, prefetch: 3 }, (m) => {
      got.push(m.body);
      if (got.length === 3) all();
    });
    await consumer.start();
    await received;
    await consumer.stop();
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // Two leases and then some: an entry left in flight would have lapsed and been swept back.
    await sleep(2.5 * LEASE_MS);
    expect(await conn.queueSize(q)).toBe(0);
    const late: unknown[] = [];
    const watcher = conn.consumer([q], (m) => {
      late.push(m.body);
    });
    await watcher.start();
    await sleep(500);
    await watcher.stop();
    expect(late).toEqual([]);
    await conn.deleteQueue(q);
  }, 30_000);
}
