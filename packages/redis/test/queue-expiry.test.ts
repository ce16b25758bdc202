/**
 * A queue with an expiry (`expires`, RabbitMQ's x-expires) is forgotten once unused that long,
 * whoever notices it (the sweep of every connected process): its messages, its bindings and its
 * registration, as RabbitMQ deletes it. A SIGKILLed event receiver's `celeryev.<uuid>` queue must
 * not stay in `_kombu.binding.celeryev` and `_nori.queues` for good. A queue its consumer keeps
 * using stays.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Connection, Exchange, Queue } from '@nori/core';
import { SEP } from '@nori/redis';
import { sleep, until } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';

const URL = redisUrl();
const admin = new Redis(URL);
afterAll(() => admin.quit());
/** A sweep every 750 ms. */
const options = { transportOptions: { leaseMs: 1500 } };

/** [in the queue registry, bound to the exchange]. */
async function known(exchange: Exchange, queue: Queue): Promise<[boolean, boolean]> {
  const members = await admin.smembers(`_kombu.binding.${exchange.name}`);
  return [(await admin.sismember('_nori.queues', queue.name)) === 1, members.some((m) => m.endsWith(`${SEP}${queue.name}`))];
}

it('a queue with an expiry, its messages and its binding are forgotten once it expired, though its owner never closed', async () => {
  const id = randomUUID().slice(0, 8);
  const exchange = new Exchange(`expiry-${id}`, { type: 'topic' });
  const queue = new Queue(`celeryev.${id}`, { exchange, routingKey: 'worker.#', expires: 500 });
  // The owner declares and publishes, then neither consumes nor closes (as if SIGKILLed).
  const owner = new Connection(URL, options);
  const other = new Connection(URL, options);
  try {
    await owner.producer().publish({ n: 1 }, { exchange, routingKey: 'worker.heartbeat', declare: [queue] });
    expect(await known(exchange, queue)).toEqual([true, true]);
    await other.connect();
    const deadline = Date.now() + 5000;
    while ((await known(exchange, queue)).some(Boolean) && Date.now() < deadline) await sleep(100);
    expect(await known(exchange, queue)).toEqual([false, false]);
    expect(await admin.exists(queue.name)).toBe(0);
    // Nothing of it is left behind, nori's own bookkeeping included.
    expect((await admin.keys(`${queue.name}*`)).length + (await admin.hexists('_nori.expiring', queue.name))).toBe(0);
  } finally {
    await other.close();
    await owner.deleteExchange(exchange);
    await owner.close();
  }
});

it('a queue its consumer keeps using does not expire', async () => {
  const id = randomUUID().slice(0, 8);
  const exchange = new Exchange(`expiry-${id}`, { type: 'direct' });
  const queue = new Queue(`kept-${id}`, { exchange, routingKey: 'k', expires: 1000 });
  const conn = new Connection(URL, options);
  const got: unknown[] = [];
  const consumer = conn.consumer([queue], (m) => void got.push(m.body));
  try {
    await consumer.start();
    await sleep(2500);
    expect(await known(exchange, queue)).toEqual([true, true]);
    await conn.producer().publish({ n: 1 }, { exchange, routingKey: 'k' });
    await until(() => got.length === 1, 5000, 'the message');
    expect(got).toEqual([{ n: 1 }]);
  } finally {
    await consumer.stop();
    await conn.deleteQueue(queue);
    await conn.deleteExchange(exchange);
    await conn.close();
  }
});
