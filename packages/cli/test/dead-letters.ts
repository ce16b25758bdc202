/**
 * What the dead-letter tests share: the brokers they run on, a dead letter as the JSON routes and
 * `nori dlq ls --json` give it, and a consumer whose retry gives up on every message of a queue.
 */
import type { Connection, Queue } from '@nori/core';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';
import { mongoUrl } from '../../mongodb/test/server.js';
import type { DeadLetter } from '../src/dlq/dead-letter.js';

export const DLQ_BROKERS = [
  { name: 'redis', url: redisUrl(2), backend: redisUrl(3) },
  { name: 'amqp', url: AMQP_URL, backend: redisUrl(3) },
  { name: 'mongodb', url: mongoUrl, backend: mongoUrl },
] as const;

/** A dead letter in JSON: its time an ISO string. */
export type Letter = Omit<DeadLetter, 'deadLetteredAt'> & { deadLetteredAt: string | null };

/** Fails every message of `work` twice (its retry then dead-letters it) until `dlq` holds `count`. */
export async function giveUp(conn: Connection, work: Queue, dlq: Queue, count: number): Promise<void> {
  const failing = conn.consumer([work], { retry: { attempts: 2, backoff: { delay: 10, jitter: false } } }, async () => {
    throw new Error('handler failed');
  });
  failing.on('error', () => undefined);
  await failing.start();
  const deadline = Date.now() + 20_000;
  while ((await conn.queueSize(dlq)) < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await failing.stop();
}
