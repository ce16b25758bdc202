/**
 * `settle`, the one place a worker settles a task message: each settlement does what it names
 * (a requeue goes to the back of the queue, a release to the front), and a message already settled is left
 * alone without an error; a settlement the broker fails is reported, not thrown.
 * ack-matrix.test.ts checks which settlement each outcome gets.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { Connection, ConnectionError } from '@nori/core';
import { redisUrl } from '@nori/testing/brokers';
import '@nori/redis';
import { settle, type Settlement } from '../src/worker/settle.js';

const conn = new Connection('memory://');
afterAll(() => conn.close());

it('settles as asked, once: ack, reject, requeue (back of the queue) and release (front)', async () => {
  const queue = conn.simpleQueue(`settle-${randomUUID()}`);
  const reported: Error[] = [];
  const states: Record<string, string> = {};
  for (const how of ['ack', 'reject', 'requeue', 'release'] as Array<Settlement | 'release'>) {
    await queue.put({ how });
    await queue.put({ how, next: true });
    const message = await queue.get({ timeout: 1000 });
    await settle(message, how, (e) => reported.push(e));
    states[how] = message.state;
    // Settled already: nothing more happens, nothing is reported.
    await settle(message, 'ack', (e) => reported.push(e));
    expect(message.state).toBe(states[how]);
    const order: unknown[] = [];
    while ((await conn.queueSize(queue.name)) > 0) {
      const rest = await queue.get({ timeout: 1000 });
      order.push(rest.body);
      await rest.ack();
    }
    const next = { how, next: true };
    expect(order).toEqual(how === 'requeue' ? [next, { how }] : how === 'release' ? [{ how }, next] : [next]);
  }
  expect(states).toEqual({ ack: 'ACK', reject: 'REJECTED', requeue: 'REQUEUED', release: 'RELEASED' });
  expect(reported).toEqual([]);
  expect(await conn.queueSize(queue.name)).toBe(0);
  await conn.deleteQueue(queue.name);
});

it('reports a settlement the broker fails (its connection closed) instead of throwing', async () => {
  const url = redisUrl();
  const name = `settle-${randomUUID()}`;
  const lost = new Connection(url);
  const queue = lost.simpleQueue(name);
  await queue.put({ n: 1 });
  const message = await queue.get({ timeout: 1000 });
  // close() puts the unsettled message back; acking it after that is the broker's failure.
  await lost.close();
  const reported: Error[] = [];
  await settle(message, 'ack', (e) => reported.push(e));
  expect(reported).toHaveLength(1);
  expect(reported[0]).toBeInstanceOf(ConnectionError);
  const own = new Connection(url);
  await own.deleteQueue(name);
  await own.close();
});
