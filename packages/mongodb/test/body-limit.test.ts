/**
 * A MongoDB document holds at most 16 MiB and the stored envelope carries the body in base64 (4/3
 * its size), so a body over MONGO_MAX_BODY_SIZE is refused at publish with MessageTooLargeError and
 * nothing is stored; the largest allowed body goes through intact. It used to be allowed up to core's
 * 128 MiB and fail at the server with the driver's error.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, MessageTooLargeError, Queue } from '@nori/core';
import { MONGO_MAX_BODY_SIZE } from '@nori/mongodb';
import { collect } from '@nori/testing';
import { mongoUrl, startServer, stopServer } from './server.js';

beforeAll(startServer);
afterAll(stopServer);

it('a body whose document would pass 16 MiB is refused at publish; the largest that fits is delivered intact', async () => {
  // 16 MiB of document, base64 4/3 of the body, 64 KiB kept for the rest of the envelope.
  expect(MONGO_MAX_BODY_SIZE).toBe(12 * 1024 * 1024 - 64 * 1024);
  const q = new Queue(`body-limit-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(mongoUrl);
  try {
    await conn.declare(q);
    const producer = conn.producer();
    await expect(producer.publish(new Uint8Array(MONGO_MAX_BODY_SIZE + 1), { routingKey: q.name })).rejects.toThrow(MessageTooLargeError);
    expect(await conn.queueSize(q)).toBe(0);
    const largest = new Uint8Array(MONGO_MAX_BODY_SIZE).fill(7);
    await producer.publish(largest, { routingKey: q.name });
    const [got] = await collect(conn, [q], 1, { timeoutMs: 20_000 });
    expect(Buffer.compare(Buffer.from(got?.body as Uint8Array), Buffer.from(largest))).toBe(0);
  } finally {
    await conn.deleteQueue(q);
    await conn.close();
  }
}, 60_000);
