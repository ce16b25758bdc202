/**
 * `settle: 'manual'`: the consumer never settles a message on its handler's behalf (a task worker
 * settles every message itself, by its own ack rules).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, InvalidArgumentError, Queue, type Message } from '@nori/core';

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
};

it("settle: 'manual' leaves what the handler did not settle unsettled, whether it returned or threw", async () => {
  const conn = new Connection('memory://');
  const q = new Queue(`settle-${randomUUID().slice(0, 8)}`);
  const producer = conn.producer();
  for (const n of [1, 2, 3]) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
  const seen: Message[] = [];
  const errors: Error[] = [];
  const consumer = conn.consumer([q], { settle: 'manual', prefetch: 3, concurrency: 3 }, async (m) => {
    seen.push(m);
    const { n } = m.body as { n: number };
    if (n === 2) throw new Error('two');
    if (n === 3) await m.reject();
  });
  consumer.on('error', (e) => errors.push(e));
  await consumer.start();
  await until(() => seen.length === 3 && errors.length === 1);
  await new Promise((r) => setTimeout(r, 50));
  expect(seen.map((m) => [(m.body as { n: number }).n, m.state])).toEqual([
    [1, 'RECEIVED'],
    [2, 'RECEIVED'],
    [3, 'REJECTED'],
  ]);
  expect(errors[0]?.message).toBe('two');
  // The two unsettled messages are still the consumer's: the queue is empty until they are given back.
  expect(await conn.queueSize(q)).toBe(0);
  await seen[0]?.ack();
  await seen[1]?.release();
  await consumer.stop();
  expect(await conn.queueSize(q)).toBe(1);
  await conn.deleteQueue(q);
  await conn.close();
});

it("settle: 'manual' refuses a retry policy (that is the consumer settling for the handler)", () => {
  const conn = new Connection('memory://');
  expect(() => conn.consumer(['q'], { settle: 'manual', retry: { attempts: 3 } }, () => undefined)).toThrow(InvalidArgumentError);
});

it('abandon() makes a stop waiting for running handlers resolve at once; a handler ending later frees no slot it no longer holds', async () => {
  const conn = new Connection('memory://');
  const q = new Queue(`abandon-${randomUUID().slice(0, 8)}`);
  const producer = conn.producer();
  for (const n of [1, 2]) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
  const ends: Array<() => void> = [];
  const consumer = conn.consumer([q], { settle: 'manual', prefetch: 2, concurrency: 2, stopTimeout: 60_000 }, async (m) => {
    await new Promise<void>((resolve) => ends.push(resolve));
    await m.ack();
  });
  await consumer.start();
  await until(() => ends.length === 2);
  let stopped = false;
  const stopping = consumer.stop().then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 50));
  expect(stopped).toBe(false);
  consumer.abandon();
  await stopping;
  expect(stopped).toBe(true);
  // Handlers that end after the abandon settle their messages and count nothing.
  for (const end of ends) end();
  await until(() => consumer.running === false);
  await conn.deleteQueue(q);
  await conn.close();
});
