/**
 * What a consumer costs Redis a message when messages come one at a time (the latency benchmark's
 * case, and every quiet queue): counted by the server's own command statistics, on a private
 * Redis so nothing else counts. A claim that gives fewer than asked means the queue was empty, so
 * the consumer waits next instead of claiming again, and that claim answers the wait's readiness
 * check too: one script call a message (before: three claims and a check). The publish is one
 * LPUSH (before: in a MULTI).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

let server: PrivateRedis;
beforeAll(async () => {
  server = await startPrivateRedis();
});
afterAll(() => server.stop());

const MESSAGES = 40;

/** Calls of each command since the last CONFIG RESETSTAT. */
async function calls(): Promise<Map<string, number>> {
  const info = await server.admin.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]));
}

it('a consumer fed one message at a time makes one script call a message (its claim) and its producer one LPUSH', async () => {
  const q = new Queue(`calls-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(server.url);
  const handled: number[] = [];
  let wake: (() => void) | undefined;
  const consumer = conn.consumer([q], { prefetch: 10, concurrency: 10 }, (m) => {
    handled.push((m.body as { n: number }).n);
    wake?.();
  });
  const producer = conn.producer();
  const sendAndWait = async (n: number): Promise<void> => {
    const done = new Promise<void>((resolve) => (wake = resolve));
    await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    await done;
    // The consumer is back in its blocking wait before the next message comes.
    await new Promise((resolve) => setTimeout(resolve, 5));
  };
  try {
    await consumer.start();
    await sendAndWait(-1);
    await server.admin.config('RESETSTAT');
    for (let n = 0; n < MESSAGES; n++) await sendAndWait(n);
    const counted = await calls();
    expect(handled.slice(1)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n));
    // The claim script reads the delayed set once a call; nothing else here does.
    const claims = counted.get('zrangebyscore') ?? 0;
    const scripts = counted.get('evalsha') ?? 0;
    expect(claims / MESSAGES).toBeLessThanOrEqual(1.1);
    // The claim only: a claim that emptied the queue answers the wait's readiness check too (the acks are plain commands).
    expect(scripts / MESSAGES).toBeLessThanOrEqual(1.1);
    // A publish to a queue without an expiry, with no priority or delay: one LPUSH, no MULTI/EXEC around it.
    expect(counted.get('lpush')).toBe(MESSAGES);
    expect(counted.get('multi') ?? 0).toBe(0);
  } finally {
    await consumer.stop();
    await conn.deleteQueue(q);
    await conn.close();
  }
});
