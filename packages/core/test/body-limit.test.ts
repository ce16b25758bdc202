/**
 * A default body limit on the store-backed transports: 128 MiB (RabbitMQ's own), lowered per
 * connection with the transport option `maxBodySize`; a body over it is refused at publish with
 * MessageTooLargeError and nothing is stored. Consumers decode at most the same by default.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, DEFAULT_MAX_BODY_SIZE, decodeBody, MessageTooLargeError } from '@nori/core';

it('a publish over maxBodySize is refused with MessageTooLargeError; one at the limit is stored', async () => {
  const conn = new Connection('memory://', { transportOptions: { maxBodySize: 1000 } });
  const q = `body-limit-${randomUUID().slice(0, 8)}`;
  try {
    const producer = conn.producer();
    await expect(producer.publish(new Uint8Array(1001), { routingKey: q })).rejects.toThrow(MessageTooLargeError);
    await producer.publish(new Uint8Array(1000), { routingKey: q });
    expect(await conn.queueSize(q)).toBe(1);
    await conn.deleteQueue(q);
  } finally {
    await conn.close();
  }
});

it('the default is 128 MiB at publish and at decode', () => {
  expect(DEFAULT_MAX_BODY_SIZE).toBe(128 * 1024 * 1024);
  const over = { byteLength: DEFAULT_MAX_BODY_SIZE + 1 } as Uint8Array;
  expect(() => decodeBody(over, 'application/data', 'binary', {}, {})).toThrow(MessageTooLargeError);
});
