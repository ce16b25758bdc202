/**
 * REDIS_URL's redis-server (the shared one on 6379 unless REDIS_URL names another on this machine) is
 * shut down and started again, with the settings it ran with, mid-stream: the consumer resumes by
 * itself, and every publish either resolved (and its message is consumed) or failed with a ConnectionError.
 * Redis here keeps nothing on disk, so messages still queued at the shutdown are gone with it;
 * this test is about nori, so it waits until they were consumed before shutting down.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, ConnectionError, Queue } from '@nori/core';
import '@nori/redis';
import { redisUrl } from '@nori/testing/brokers';

/** The server under test is REDIS_URL's (6379 unless it says otherwise): it must run on this machine. */
const url = new URL(redisUrl());
const PORT = Number(url.port || 6379);
if (!['127.0.0.1', 'localhost'].includes(url.hostname)) throw new Error(`restart.fault restarts REDIS_URL's redis-server: ${url.hostname} is not this machine`);

const probeClient = (): Redis => {
  const probe = new Redis(redisUrl(), { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  return probe;
};

/** How the server runs (read before it is shut down), so it comes back as it was: the shared one or a private one. */
let START: string[] = [];
beforeAll(async () => {
  const probe = probeClient();
  await probe.connect();
  const setting = async (name: string): Promise<string> => ((await probe.config('GET', name)) as string[])[1] ?? '';
  const [dir, logfile, bind] = [await setting('dir'), await setting('logfile'), await setting('bind')];
  probe.disconnect();
  START = ['--daemonize', 'yes', '--port', String(PORT), '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', logfile];
  if (bind !== '') START.push('--bind', ...bind.split(' '));
});

async function redisUp(): Promise<boolean> {
  const probe = probeClient();
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function startRedis(): Promise<void> {
  if (!(await redisUp())) execFileSync('redis-server', START);
  for (let i = 0; i < 50 && !(await redisUp()); i++) await new Promise((r) => setTimeout(r, 100));
}

afterAll(startRedis);

it('a consumer resumes by itself after redis-server restarts; no publish is silently dropped', async () => {
  const conn = new Connection(redisUrl());
  const errors: Error[] = [];
  const queue = new Queue(`fault-restart-${randomUUID().slice(0, 8)}`);
  const received = new Set<number>();
  const consumer = conn.consumer([queue], { prefetch: 20 }, async (m) => {
    received.add((m.body as { id: number }).id);
    await m.ack();
  });
  consumer.on('error', (e) => errors.push(e));
  await consumer.start();
  const producer = conn.producer();
  const publish = (id: number): Promise<void> =>
    producer.publish(
      { id },
      { routingKey: queue.name, retry: true, retryPolicy: { maxRetries: 30, intervalStart: 200, intervalStep: 200, intervalMax: 1000 } },
    );

  for (let id = 0; id < 500; id++) await publish(id);
  for (let i = 0; i < 100 && received.size < 500; i++) await new Promise((r) => setTimeout(r, 50));
  expect(received.size).toBe(500);

  const killer = probeClient();
  await killer.connect();
  // The server closes the connection instead of replying.
  await killer.shutdown('NOSAVE').catch(() => undefined);
  killer.disconnect();
  for (let i = 0; i < 50 && (await redisUp()); i++) await new Promise((r) => setTimeout(r, 100));
  // Publishes during the outage: they wait for the reconnect (bounded by ioredis' retries and the
  // publish retry policy) or fail with a ConnectionError.
  const during = Array.from({ length: 200 }, (_, i) => 500 + i).map((id) =>
    publish(id).then(
      () => ({ id, ok: true as const }),
      (error: unknown) => ({ id, ok: false as const, error }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1500));
  await startRedis();
  const outcomes = await Promise.all(during);
  for (let id = 700; id < 1000; id++) await publish(id);

  const resolved = outcomes.filter((o) => o.ok).map((o) => o.id);
  for (const o of outcomes) if (!o.ok) expect(o.error).toBeInstanceOf(ConnectionError);
  const expected = [...resolved, ...Array.from({ length: 300 }, (_, i) => 700 + i)];
  const deadline = Date.now() + 20_000;
  while (expected.some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(expected.filter((id) => !received.has(id))).toEqual([]);
  expect(resolved.length).toBeGreaterThan(0);
  await consumer.stop();
  await conn.close();
}, 90_000);
