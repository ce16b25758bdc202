/**
 * What the Redis result backend writes and publishes, read with a plain Redis client: Celery's
 * `celery-task-meta-<id>` key (behind the URL's global_keyprefix) with resultExpires as its
 * expiry (none for 0 or less), the same document PUBLISHed on the key's channel, several results
 * of one tick in order, one subscription per id however many wait on it (dropped when the last
 * waiter leaves), and a store after close() connecting afresh. The contract shared with the other
 * backends is in backends.test.ts; Python reading these keys in interop-results.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, silentLogger, TimeoutError } from '@nori/core';
import '@nori/msgpack';
import { createBackend, type ResultBackend } from '@nori/tasks/backends';
import { redisUrl } from '@nori/testing/brokers';
import { UNSUBSCRIBE_AFTER_MS } from '../src/backends/redis-backend.js';

const URL = redisUrl(1);
const redis = new Redis(URL);
const connection = new Connection('memory://');
const backends: ResultBackend[] = [];
const keys: string[] = [];
afterAll(async () => {
  for (const backend of backends) await backend.close();
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await connection.close();
});

function open(resultExpires = 60_000, url = URL, resultSerializer?: string): ResultBackend {
  const backend = createBackend(url, { connection, oid: randomUUID(), resultExpires, logger: silentLogger, resultSerializer });
  backends.push(backend);
  return backend;
}

function newKey(prefix = ''): { id: string; key: string } {
  const id = randomUUID();
  const key = `${prefix}celery-task-meta-${id}`;
  keys.push(key);
  return { id, key };
}

/** How many subscribers a channel has. */
async function subscribers(channel: string): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
  return count;
}

describe('Redis result backend: keys in Celery layout', () => {
  it('stores the task meta document under celery-task-meta-<id>, expiring after resultExpires', async () => {
    const backend = open(60_000.4);
    const { id, key } = newKey();
    await backend.storeResult(id, 'SUCCESS', { sum: 3 });
    expect(JSON.parse((await redis.get(key)) as string)).toEqual({
      status: 'SUCCESS',
      result: { sum: 3 },
      traceback: null,
      children: [],
      date_done: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/),
      task_id: id,
    });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('keeps a result for ever when resultExpires is 0 or less', async () => {
    for (const expires of [0, -5]) {
      const { id, key } = newKey();
      await open(expires).storeResult(id, 'SUCCESS', 1);
      expect(await redis.get(key)).not.toBeNull();
      expect(await redis.pttl(key)).toBe(-1);
    }
  });

  it("writes a failure's exception dict and traceback, and reads it back as a TaskError", async () => {
    const backend = open();
    const { id, key } = newKey();
    await backend.storeResult(id, 'FAILURE', new RangeError('too far'), { traceback: 'RangeError: too far\n    at x' });
    expect(JSON.parse((await redis.get(key)) as string)).toMatchObject({
      status: 'FAILURE',
      result: { exc_type: 'RangeError', exc_message: ['too far'], exc_module: 'nori' },
      traceback: 'RangeError: too far\n    at x',
    });
    const read = await backend.getResult(id);
    expect(read).toMatchObject({ taskId: id, state: 'FAILURE', traceback: 'RangeError: too far\n    at x' });
    expect(read.result).toMatchObject({ excType: 'RangeError', excMessage: ['too far'] });
  });

  it('publishes each document on its key, the states of one tick in order, and never over a SUCCESS', async () => {
    const backend = open();
    const { id, key } = newKey();
    const listener = redis.duplicate();
    const seen: string[] = [];
    listener.on('message', (channel: string, message: string) => {
      if (channel === key) seen.push((JSON.parse(message) as { status: string }).status);
    });
    await listener.subscribe(key);
    try {
      await Promise.all([backend.storeResult(id, 'STARTED', null), backend.storeResult(id, 'PROGRESS', { n: 1 }), backend.storeResult(id, 'SUCCESS', 7)]);
      await backend.storeResult(id, 'FAILURE', new Error('late'));
      await expect.poll(() => seen).toEqual(['STARTED', 'PROGRESS', 'SUCCESS']);
      expect((await backend.getResult(id)).result).toBe(7);
    } finally {
      listener.disconnect();
    }
  });

  it("puts every key behind the URL's global_keyprefix, and listens on the prefixed channel", async () => {
    const backend = open(60_000, `${URL}?global_keyprefix=pfx-`);
    const { id, key } = newKey('pfx-');
    keys.push(`celery-task-meta-${id}`);
    const waited = backend.waitFor(id, { timeout: 5000 });
    await expect.poll(() => subscribers(key)).toBe(1);
    await backend.storeResult(id, 'SUCCESS', 'prefixed');
    expect((await waited).result).toBe('prefixed');
    expect(await redis.exists(key, `celery-task-meta-${id}`)).toBe(1);
    expect(JSON.parse((await redis.get(key)) as string)).toMatchObject({ result: 'prefixed' });
    expect((await backend.getResult(id)).result).toBe('prefixed');
    expect((await open().getResult(id)).state).toBe('PENDING');
    await backend.forget(id);
    expect(await redis.exists(key)).toBe(0);
  });

  it('stores bytes with a binary result serializer and reads them back', async () => {
    const backend = open(60_000, URL, 'msgpack');
    const { id, key } = newKey();
    await backend.storeResult(id, 'SUCCESS', { list: [1, 'two'] });
    const raw = (await redis.getBuffer(key)) as Buffer;
    expect(() => JSON.parse(raw.toString('utf8'))).toThrow();
    expect((await backend.getResult(id)).result).toEqual({ list: [1, 'two'] });
  });

  it('subscribes once per id however many wait, and unsubscribes when the last waiter leaves', async () => {
    const backend = open();
    const { id, key } = newKey();
    const { id: other, key: otherKey } = newKey();
    const short = backend.waitFor(id, { timeout: 300 });
    const long = backend.waitFor(id, { timeout: 10_000 });
    const elsewhere = backend.waitFor(other, { timeout: 300 });
    await expect.poll(() => subscribers(key)).toBe(1);
    expect(await subscribers(otherKey)).toBe(1);
    await expect(short).rejects.toBeInstanceOf(TimeoutError);
    await expect(elsewhere).rejects.toBeInstanceOf(TimeoutError);
    // The first waiter's timeout leaves the other one subscribed.
    expect(await subscribers(key)).toBe(1);
    await expect.poll(() => subscribers(otherKey)).toBe(0);
    await backend.storeResult(id, 'SUCCESS', 'both');
    expect((await long).result).toBe('both');
    await expect.poll(() => subscribers(key)).toBe(0);
  });

  it('a channel waited on again before its UNSUBSCRIBE goes leaves the other channels subscribed', async () => {
    const backend = open();
    const { id: a, key: keyA } = newKey();
    const { id: b, key: keyB } = newKey();
    const waitA = backend.waitFor(a, { timeout: 5000 });
    await expect(backend.waitFor(b, { timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
    // b is leaving; waited on again before its UNSUBSCRIBE is sent, it stays, and nothing leaves.
    const waitB = backend.waitFor(b, { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, UNSUBSCRIBE_AFTER_MS * 3));
    expect([await subscribers(keyA), await subscribers(keyB)]).toEqual([1, 1]);
    await backend.storeResult(a, 'SUCCESS', 'a');
    await backend.storeResult(b, 'SUCCESS', 'b');
    expect([(await waitA).result, (await waitB).result]).toEqual(['a', 'b']);
  });

  it('wakes every waiter on an id', async () => {
    const backend = open();
    const { id } = newKey();
    const waits = [backend.waitFor(id, { timeout: 5000 }), backend.waitFor(id, { timeout: 5000 })];
    await new Promise((resolve) => setTimeout(resolve, 100));
    await backend.storeResult(id, 'SUCCESS', 'all');
    expect((await Promise.all(waits)).map((r) => r.result)).toEqual(['all', 'all']);
  });

  it('close() before any use resolves; a read in flight when it closes settles, not left hanging', async () => {
    await expect(open().close()).resolves.toBeUndefined();
    const backend = open();
    const { id } = newKey();
    await backend.getResult(id);
    const reading = backend.getResult(id);
    await backend.close();
    // The GET is written when called: its reply may come back before the connection closes.
    await expect(
      reading.then(
        () => 'settled',
        () => 'settled',
      ),
    ).resolves.toBe('settled');
  });

  it('a store begun before close() lands, and a close() while connecting leaves no closed client behind', async () => {
    const backend = open();
    const { id, key } = newKey();
    await backend.getResult(id);
    const storing = backend.storeResult(id, 'SUCCESS', 'before close');
    const closing = backend.close();
    await storing;
    await closing;
    expect(JSON.parse((await redis.get(key)) as string)).toMatchObject({ result: 'before close' });
    const fresh = open();
    const { id: other, key: otherKey } = newKey();
    const connecting = fresh.getResult(other);
    await fresh.close();
    await connecting.catch(() => undefined);
    await fresh.storeResult(other, 'SUCCESS', 'fresh');
    expect(JSON.parse((await redis.get(otherKey)) as string)).toMatchObject({ result: 'fresh' });
  });

  it('connects afresh for a store after close()', async () => {
    const backend = open();
    const { id, key } = newKey();
    await backend.storeResult(id, 'STARTED', null);
    await backend.close();
    await backend.storeResult(id, 'SUCCESS', 'after close');
    expect(JSON.parse((await redis.get(key)) as string)).toMatchObject({ status: 'SUCCESS', result: 'after close' });
  });
});

describe('Redis result backend: waits that share a subscription', () => {
  it("a second wait on an id reads it only once the first wait's SUBSCRIBE is in: a result published between is not missed", async () => {
    // Every connection after the first (the subscriber's) opens 300 ms late, through this relay.
    const target = new globalThis.URL(URL);
    let connections = 0;
    const relay = createServer((socket) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      const late = connections++ > 0;
      socket.pause();
      setTimeout(
        () => {
          socket.pipe(upstream).pipe(socket);
          socket.resume();
        },
        late ? 300 : 0,
      );
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayed = new globalThis.URL(URL);
    relayed.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const backend = open(60_000, relayed.toString());
    const { id } = newKey();
    try {
      await backend.getResult(id); // the first connection, not delayed
      const first = backend.waitFor(id, { timeout: 3000 });
      const second = backend.waitFor(id, { timeout: 3000 });
      await new Promise((r) => setTimeout(r, 100));
      // Stored and published while the first wait's SUBSCRIBE waits for its connection.
      await open().storeResult(id, 'SUCCESS', 7);
      expect((await Promise.all([first, second])).map((r) => r.result)).toEqual([7, 7]);
    } finally {
      await backend.close();
      relay.close();
    }
  });
});
