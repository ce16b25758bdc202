/**
 * What awaiting results one after another costs Redis (the latency benchmark's sender, #28.3):
 * counted by the server's own command statistics, on a private Redis so nothing else counts. A
 * wait subscribes to its task's channel and reads the key once; the channels whose waits ended
 * within the backend's 100 ms leave in one UNSUBSCRIBE (before: one a wait), and a channel waited
 * on again before then is still subscribed, so it needs no SUBSCRIBE and still wakes its wait.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, silentLogger } from '@nori/core';
import { createBackend, type ResultBackend } from '@nori/tasks/backends';
import { startPrivateRedis, type PrivateRedis } from '../../redis/test/private-redis.js';

let server: PrivateRedis;
const connection = new Connection('memory://');
const backends: ResultBackend[] = [];
beforeAll(async () => {
  server = await startPrivateRedis();
});
afterAll(async () => {
  for (const backend of backends) await backend.close();
  await connection.close();
  await server.stop();
});

const WAITS = 40;

function open(): ResultBackend {
  const backend = createBackend(server.url, { connection, oid: randomUUID(), resultExpires: 60_000, logger: silentLogger });
  backends.push(backend);
  return backend;
}

/** Calls of each command since the last CONFIG RESETSTAT. */
async function calls(): Promise<Map<string, number>> {
  const info = await server.admin.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]));
}

async function subscribers(ids: readonly string[]): Promise<number> {
  const counts = (await server.admin.pubsub('NUMSUB', ...ids.map((id) => `celery-task-meta-${id}`))) as Array<string | number>;
  return counts.filter((c): c is number => typeof c === 'number').reduce((a, b) => a + b, 0);
}

it('results awaited one after another: one SUBSCRIBE and one GET a wait, the ended channels unsubscribed together', async () => {
  const client = open();
  const worker = open();
  await client.getResult(randomUUID());
  await worker.storeResult(randomUUID(), 'SUCCESS', 0);
  await server.admin.config('RESETSTAT');
  const ids = Array.from({ length: WAITS }, () => randomUUID());
  for (const [n, id] of ids.entries()) {
    const wait = client.waitFor(id, { timeout: 5_000 });
    await expect.poll(() => subscribers([id])).toBe(1);
    await worker.storeResult(id, 'SUCCESS', n);
    expect((await wait).result).toBe(n);
  }
  await expect.poll(() => subscribers(ids)).toBe(0);
  const counted = await calls();
  expect(counted.get('subscribe')).toBe(WAITS);
  // A wait's read, and the STORE script's check for a SUCCESS already there.
  expect(counted.get('get')).toBe(2 * WAITS);
  expect(counted.get('evalsha')).toBe(WAITS);
  // One a wait before; now one for the waits that ended in each 100 ms.
  expect(counted.get('unsubscribe') ?? 0).toBeLessThanOrEqual(WAITS / 4);
});

it('a channel waited on again before it is unsubscribed needs no SUBSCRIBE, and its publish still wakes the wait', async () => {
  const client = open();
  const worker = open();
  const id = randomUUID();
  await expect(client.waitFor(id, { timeout: 20 })).rejects.toThrow(/not ready/);
  await server.admin.config('RESETSTAT');
  const again = client.waitFor(id, { timeout: 5_000 });
  await expect.poll(async () => (await calls()).get('get')).toBe(1); // the wait's read
  await worker.storeResult(id, 'SUCCESS', 'again');
  expect((await again).result).toBe('again');
  expect((await calls()).get('subscribe')).toBeUndefined();
  await expect.poll(() => subscribers([id])).toBe(0);
});
