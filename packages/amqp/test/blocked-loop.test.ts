/**
 * Blocked loops and redelivery bounds on RabbitMQ. A handler that blocks the event loop past the
 * heartbeat timeout: the broker closes the blocked consumer's connection and hands its unacked
 * messages to the other consumer. The long message runs a second time there (nothing keeps a
 * connection alive that sends no heartbeat), but the messages that waited in the blocked consumer's
 * prefetch must not run in both: once the loop turns, they are lost to it (`Message.lost`) and not
 * started. On quorum queues the broker counts returns (`x-delivery-count`): that is
 * `message.lapses`, and a consumer's `maxLapses` bounds it.
 */
import { afterAll, expect, it } from 'vitest';
import '@nori/amqp';
import { Connection, Queue } from '@nori/core';
import { child, kill, TestNames, until } from '@nori/testing';
import { AMQP_URL } from '@nori/testing/brokers';

const names = new TestNames('nori-amqp-blocked');
const conn = new Connection(AMQP_URL);
afterAll(async () => {
  await names.deleteAll(conn);
  await conn.close();
});

it('prefetched messages of a consumer whose connection died of a blocked loop are not started there', async () => {
  const q = new Queue(names.name('q'));
  await conn.declare(q);
  // Heartbeat 2 s: the broker closes the connection after about two missed heartbeats; the loop blocks 8 s.
  const blocking = child('child-blocking', [AMQP_URL, q.name, 'block:8000', JSON.stringify({ heartbeat: 2 }), JSON.stringify(['@nori/amqp']), '5']);
  const other: string[] = [];
  const consumer = conn.consumer([q], { prefetch: 5 }, (m) => {
    other.push((m.body as { id: string }).id);
  });
  try {
    await blocking.line('ready', 20_000);
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const id of ids) await conn.producer().publish({ id }, { routingKey: q.name });
    await blocking.line('got a', 20_000);
    await consumer.start();
    await until(() => other.length === ids.length, 30_000, 'the blocked consumer’s messages at the other consumer');
    // The blocked one wakes up after 8 s; give it time to (wrongly) start what it had prefetched.
    await blocking.line('done a', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(other.sort()).toEqual(ids);
    expect(blocking.lines.filter((l) => l.startsWith('got '))).toEqual(['got a']);
  } finally {
    await consumer.stop();
    await kill(blocking.proc);
  }
}, 60_000);

it('on a quorum queue, message.lapses is the broker’s x-delivery-count, and maxLapses bounds it', async () => {
  const q = new Queue(names.name('quorum'), { queueArguments: { 'x-queue-type': 'quorum' } });
  await conn.producer().publish({ id: 'p' }, { routingKey: q.name, declare: [q] });
  const seen: number[] = [];
  const errors: Error[] = [];
  // Requeued by the handler each time: RabbitMQ counts every return of a quorum queue's message.
  const consumer = conn.consumer([q], { maxLapses: 2, retry: false }, async (m) => {
    seen.push(m.lapses);
    await m.requeue();
  });
  consumer.on('error', (error) => errors.push(error));
  await consumer.start();
  await until(() => errors.length > 0, 20_000, 'the redelivery limit');
  await consumer.stop();
  expect(seen).toEqual([0, 1, 2]);
  expect(errors.map((e) => e.name)).toEqual(['RedeliveryLimitError']);
  expect(await conn.queueSize(q)).toBe(0);
}, 30_000);
