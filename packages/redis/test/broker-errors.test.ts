/**
 * What Redis refuses reaches the user as nori's classes, with the server's reason in the message,
 * and nothing is reported stored that was not: a key of the wrong type, a queue named like one of
 * kombu's keys, a full server (maxmemory + noeviction), a wrong password. Each on a redis-server
 * this file starts (the shared one is never filled or re-passworded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, BrokerRefusedError, Connection, InvalidArgumentError, MessageTooLargeError, Queue, type Message } from '@nori/core';
import { REDIS_MAX_BODY_SIZE } from '@nori/redis';
import { sleep } from '@nori/testing';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

describe('server refusals', () => {
  let redis: PrivateRedis;
  let url: string;
  beforeAll(async () => {
    redis = await startPrivateRedis(['--maxmemory-policy', 'noeviction']);
    url = redis.url;
  });
  afterAll(() => redis.stop());

  it('a publish onto a key of the wrong type rejects with BrokerRefusedError naming WRONGTYPE', async () => {
    await redis.admin.set('wrongtype-q', 'a string');
    const conn = new Connection(url);
    try {
      const error: unknown = await conn
        .producer()
        .publish({ n: 1 }, { routingKey: 'wrongtype-q' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerRefusedError);
      expect((error as Error).message).toMatch(/WRONGTYPE/);
      expect(await redis.admin.get('wrongtype-q')).toBe('a string');
    } finally {
      await conn.close();
    }
  });

  it('a body over 1 MiB is refused at publish by default (one big message stalls every client of the server); 1 MiB is stored; maxBodySize raises it', async () => {
    expect(REDIS_MAX_BODY_SIZE).toBe(1024 * 1024);
    const conn = new Connection(url);
    const raised = new Connection(url, { transportOptions: { maxBodySize: REDIS_MAX_BODY_SIZE + 1 } });
    const q = new Queue('body-limit-q');
    try {
      await expect(conn.producer().publish(new Uint8Array(REDIS_MAX_BODY_SIZE + 1), { routingKey: q.name })).rejects.toThrow(MessageTooLargeError);
      expect(await redis.admin.exists(q.name)).toBe(0);
      await conn.producer().publish(new Uint8Array(REDIS_MAX_BODY_SIZE), { routingKey: q.name });
      await raised.producer().publish(new Uint8Array(REDIS_MAX_BODY_SIZE + 1), { routingKey: q.name });
      expect(await conn.queueSize(q)).toBe(2);
    } finally {
      await conn.deleteQueue(q);
      await Promise.all([conn.close(), raised.close()]);
    }
  });

  it('queue names that are kombu keys are refused: publishing to "unacked" cannot land in the in-flight hash', async () => {
    const conn = new Connection(url);
    try {
      for (const name of ['unacked', 'unacked_index', 'unacked_mutex', '_kombu.binding.celery', 'a\x06\x163']) {
        await expect(conn.producer().publish({ n: 1 }, { routingKey: name }), name).rejects.toThrow(InvalidArgumentError);
        await expect(conn.declare(new Queue(name)), name).rejects.toThrow(/queue name refused on Redis/);
      }
      expect(await redis.admin.exists('unacked', 'unacked_index', 'unacked_mutex', '_kombu.binding.celery')).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it('a full Redis: publish fails with the server reason (OOM), and consumers still start and drain every message', async () => {
    const q = new Queue('oom-q');
    const conn = new Connection(url);
    const producer = conn.producer();
    await conn.declare(q);
    // Due at once when the consumer starts: its claim used to write (promote it) before it freed anything.
    await producer.publish({ n: -1 }, { routingKey: q.name, delay: 50 });
    await redis.admin.config('SET', 'maxmemory', String((await memoryUsed(redis)) + 2 * 1024 * 1024));
    const body = 'x'.repeat(2000);
    let stored = 1;
    let refusal: unknown;
    for (let n = 0; refusal === undefined && n < 10_000; n++) {
      await producer.publish({ n, body }, { routingKey: q.name }).then(
        () => stored++,
        (e: unknown) => (refusal = e),
      );
    }
    expect(refusal).toBeInstanceOf(BrokerRefusedError);
    expect((refusal as Error).message).toMatch(/OOM command not allowed/);
    expect(stored).toBeGreaterThan(100);
    await sleep(100);

    const consumerConn = new Connection(url);
    try {
      const got = new Set<number>();
      let done!: () => void;
      const drained = new Promise<void>((resolve) => (done = resolve));
      const consumer = consumerConn.consumer([q], { prefetch: 50 }, async (m: Message) => {
        got.add((m.body as { n: number }).n);
        await m.ack();
        if (got.size === stored) done();
      });
      await consumer.start(); // declares q: it exists, so nothing is written
      await Promise.race([drained, sleep(30_000)]);
      await consumer.stop();
      expect(got.size).toBe(stored);
      expect(got.has(-1)).toBe(true);
    } finally {
      await consumerConn.close();
      await conn.close();
      await redis.admin.config('SET', 'maxmemory', '0');
    }
  }, 60_000);
});

describe('wrong password', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis([], 'right-secret');
  });
  afterAll(() => redis.stop());
  const urlWith = (password: string): string => `redis://:${password}@127.0.0.1:${redis.port}/0`;

  it('connect, ensureConnection and publish fail with AuthenticationError at once, without retrying', async () => {
    const conn = new Connection(urlWith('wrong-secret'));
    try {
      const error: unknown = await conn.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toMatch(/WRONGPASS/);
      expect((error as Error).message).not.toMatch(/wrong-secret/);
      const retries: number[] = [];
      conn.on('reconnecting', (attempt) => retries.push(attempt));
      const started = Date.now();
      await expect(conn.ensureConnection({ maxRetries: 5, intervalStart: 2000 })).rejects.toThrow(AuthenticationError);
      expect(retries).toEqual([]);
      expect(Date.now() - started).toBeLessThan(2000);
      await expect(conn.producer().publish({ n: 1 }, { routingKey: 'auth-q', retry: true })).rejects.toThrow(AuthenticationError);
    } finally {
      await conn.close();
    }
  });

  it('an ack after the password changed fails with AuthenticationError', async () => {
    const conn = new Connection(urlWith('right-secret'), { connectionName: 'nori-auth-test' });
    try {
      const inbox = conn.simpleQueue('auth-q2');
      await inbox.put({ n: 1 });
      const m = await inbox.get({ timeout: 2000 });
      await redis.admin.config('SET', 'requirepass', 'new-secret');
      await killClients(redis, 'nori-auth-test');
      await expect(m.ack()).rejects.toThrow(AuthenticationError);
      await expect(inbox.put({ n: 2 })).rejects.toThrow(AuthenticationError);
    } finally {
      await redis.admin.config('SET', 'requirepass', 'right-secret').catch(() => undefined);
      await conn.close().catch(() => undefined);
    }
  }, 30_000);
});

async function memoryUsed(redis: PrivateRedis): Promise<number> {
  const info = await redis.admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/** CLIENT KILL by id of the clients with this name (CLIENT SETNAME), and only those. */
async function killClients(redis: PrivateRedis, name: string): Promise<void> {
  const list = String(await redis.admin.client('LIST'));
  for (const line of list.split('\n')) {
    if (!line.includes(` name=${name} `)) continue;
    const id = /id=(\d+)/.exec(line)?.[1];
    if (id) await redis.admin.client('KILL', 'ID', id);
  }
}
