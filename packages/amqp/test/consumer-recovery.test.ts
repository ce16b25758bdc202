/**
 * What the broker does to a consumer on its own: cancel it (its queue deleted) or close its
 * channel while the connection stays up. Both are reported as `error` events and repaired.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, ConsumerCancelledError, InvalidArgumentError, Queue, type Message } from '@nori/core';
import '@nori/amqp';
import { closeOwnConsumerChannels, ownConnectionName } from './own-connections.js';
import { waitFor } from './wait-for.js';
import { AMQP_URL } from '@nori/testing/brokers';

const URL_ = AMQP_URL;

describe('AMQP consumers the broker cancels or cuts off', () => {
  const other = new Connection(URL_);
  afterAll(() => other.close());

  function setup(label: string): { conn: Connection; name: string; queue: Queue; got: string[]; errors: Error[]; connects: () => number } {
    const name = ownConnectionName(label);
    const conn = new Connection(URL_, { connectionName: name });
    const errors: Error[] = [];
    let connects = 0;
    conn.on('error', (e) => errors.push(e));
    conn.on('connected', () => connects++);
    return { conn, name, queue: new Queue(`${label}-${randomUUID().slice(0, 8)}`, { durable: false }), got: [], errors, connects: () => connects };
  }

  it('a consumer whose queue is deleted reports ConsumerCancelledError and resumes once the queue is back', async () => {
    const { conn, queue, got, errors } = setup('cancelled');
    const consumer = conn.consumer([queue], { prefetch: 10 }, async (m: Message) => {
      got.push(m.body as string);
      await m.ack();
    });
    try {
      await consumer.start();
      await other.deleteQueue(queue);
      await waitFor(() => errors.length > 0, 'the error event');
      expect(errors[0]).toBeInstanceOf(ConsumerCancelledError);
      expect((errors[0] as ConsumerCancelledError).queue).toBe(queue.name);
      expect(consumer.running).toBe(true);
      await other.declare(queue);
      await other.producer().publish('back', { routingKey: queue.name });
      await waitFor(() => got.length === 1, 'the message on the re-created queue');
      expect(got).toEqual(['back']);
    } finally {
      await consumer.stop();
      await conn.close();
      await other.deleteQueue(queue).catch(() => undefined);
    }
  });

  it('a consumer channel the broker closes alone is reopened, on the same connection', async () => {
    const { conn, name, queue, got, errors, connects } = setup('channel-closed');
    const consumer = conn.consumer([queue], { prefetch: 10 }, async (m: Message) => {
      got.push(m.body as string);
      await m.ack();
    });
    try {
      await consumer.start();
      await other.producer().publish('first', { routingKey: queue.name });
      await waitFor(() => got.length === 1, 'the first message');
      expect(await closeOwnConsumerChannels(name)).toBe(1);
      await waitFor(() => errors.length > 0, 'the error event');
      // amqplib's 406 as nori's class, never the raw error.
      expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
      expect(errors[0]?.message).toMatch(/unknown delivery tag/);
      await other.producer().publish('second', { routingKey: queue.name });
      await waitFor(() => got.length === 2, 'the message after the channel was reopened');
      expect(got).toEqual(['first', 'second']);
      expect(connects()).toBe(1);
    } finally {
      await consumer.stop();
      await conn.close();
      await other.deleteQueue(queue).catch(() => undefined);
    }
  });
});
