/**
 * A consumer's acks are written in batches (ack-batch.ts); each must still settle its own message
 * only, never one still unsettled, and none may be held back or lost to a channel close.
 */
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUrl, silentLogger } from '@nori/core';
import type { Delivery, Transport } from '@nori/core/spi';
import { createAmqpTransport } from '@nori/amqp';
import { waitFor } from './wait-for.js';
import { AMQP_URL } from '@nori/testing/brokers';

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

describe('AMQP acks written in batches', () => {
  const transports: Transport[] = [];
  const queues: string[] = [];
  afterAll(async () => {
    const t = await open();
    for (const q of queues) await t.deleteQueue(q);
    for (const x of transports) await x.close();
  });

  async function open(): Promise<Transport> {
    const t = createAmqpTransport([parseUrl(AMQP_URL)], { transportOptions: {}, logger: silentLogger, connectTimeout: 2000 });
    transports.push(t);
    await t.connect();
    return t;
  }

  async function loaded(t: Transport, bodies: string[]): Promise<string> {
    const queue = `ack-batch-${randomUUID().slice(0, 8)}`;
    queues.push(queue);
    await t.declareQueue({ name: queue, durable: false, exclusive: false, autoDelete: false, arguments: {}, bindings: [] });
    for (const b of bodies) await send(t, queue, b);
    return queue;
  }

  function send(t: Transport, queue: string, body: string): Promise<void> {
    return t.publish(
      { body: Buffer.from(body), contentType: 'text/plain', contentEncoding: 'utf-8', headers: {}, properties: {} },
      { exchange: '', routingKey: queue, mandatory: false },
    );
  }

  /** The bodies left in the queue, read with amqplib. */
  async function left(queue: string): Promise<string[]> {
    const c = await amqplib.connect(AMQP_URL);
    const ch = await c.createChannel();
    const bodies: string[] = [];
    for (let m = await ch.get(queue, { noAck: true }); m; m = await ch.get(queue, { noAck: true })) bodies.push(m.content.toString());
    await c.close();
    return bodies.sort();
  }

  it('acks of one turn settle only their messages: one still running comes back, and it holds back no later ack', async () => {
    const t = await open();
    const queue = await loaded(t, ['0', '1', '2', '3', '4', '5']);
    const got: Delivery[] = [];
    await t.consume([queue], { prefetch: 6, noAck: false, consumerTag: `ack-batch-${randomUUID()}` }, (d) => got.push(d));
    await waitFor(() => got.length === 6, 'the first 6 deliveries');
    // All but "3", in one turn: the lower three can go as one multiple ack, which must stop short of "3".
    for (const d of got) if (Buffer.from(d.body).toString() !== '3') void d.ack();
    await settle();
    // The prefetch (6) has room again only if the acks above "3" were written too.
    for (const b of ['6', '7', '8']) await send(t, queue, b);
    await waitFor(() => got.length === 9, 'the 3 deliveries the acks made room for', 5000);
    await t.close();
    expect(await left(queue)).toEqual(['3', '6', '7', '8']);
  });

  it('acks made as the last unsettled messages of a cancelled consumer are written before its channel closes', async () => {
    const t = await open();
    const queue = await loaded(t, ['a', 'b', 'c']);
    const got: Delivery[] = [];
    const sub = await t.consume([queue], { prefetch: 3, noAck: false, consumerTag: `ack-batch-${randomUUID()}` }, (d) => got.push(d));
    await waitFor(() => got.length === 3, 'the 3 deliveries');
    await sub.cancel();
    // The last of these closes the channel, in this same turn.
    for (const d of got) void d.ack();
    await settle();
    expect(await left(queue)).toEqual([]);
    await t.close();
    expect(await left(queue)).toEqual([]);
  });
});
