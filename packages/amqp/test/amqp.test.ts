import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, Exchange, NotFoundError, parseUrl, Queue, silentLogger } from '@nori/core';
import { connectOptions } from '@nori/amqp';

const options = { transportOptions: {}, logger: silentLogger, connectTimeout: 1000 };

describe('AMQP URLs follow kombu', () => {
  it('virtual host from the path: "//" is "/", none is "/", "/prod" is "prod"; guest/guest by default', () => {
    expect(connectOptions(parseUrl('amqp://h//'), options).connect.vhost).toBe('/');
    expect(connectOptions(parseUrl('amqp://h'), options).connect.vhost).toBe('/');
    expect(connectOptions(parseUrl('pyamqp://u:p%2Fw@h:5673/prod'), options).connect).toMatchObject({ vhost: 'prod', username: 'u', password: 'p/w', port: 5673, protocol: 'amqp' });
    expect(connectOptions(parseUrl('amqp://h'), options).connect).toMatchObject({ username: 'guest', password: 'guest', port: 5672 });
    expect(connectOptions(parseUrl('amqps://h'), options).connect).toMatchObject({ protocol: 'amqps', port: 5671 });
    expect(connectOptions(parseUrl('amqp://h?heartbeat=15'), options).connect.heartbeat).toBe(15);
  });
});

describe('AMQP errors are clear and the transport keeps working', () => {
  const conn = new Connection('amqp://guest:guest@127.0.0.1:5672//');
  afterAll(() => conn.close());

  it('publishing to a missing exchange rejects with NotFoundError; the next publish works', async () => {
    const producer = conn.producer();
    await expect(producer.publish({ a: 1 }, { exchange: `missing-${randomUUID()}`, routingKey: 'x' })).rejects.toThrow(NotFoundError);
    const q = new Queue(`after-404-${randomUUID().slice(0, 8)}`);
    await producer.publish({ ok: true }, { routingKey: q.name, declare: [q] });
    const m = await conn.simpleQueue(q).get({ timeout: 2000 });
    expect(m.body).toEqual({ ok: true });
    await m.ack();
    await conn.deleteQueue(q);
  });

  it('checking a missing queue is NotFoundError; redeclaring with other arguments is refused clearly', async () => {
    await expect(conn.queueStatus(`nope-${randomUUID()}`)).rejects.toThrow(NotFoundError);
    const name = `args-${randomUUID().slice(0, 8)}`;
    await conn.declare(new Queue(name, { maxPriority: 5 }));
    await expect(conn.declare(new Queue(name, { maxPriority: 9 }))).rejects.toThrow(/PRECONDITION_FAILED|inequivalent/);
    await conn.deleteQueue(name);
  });

  it('exchange-to-exchange bindings route', async () => {
    const transport = await conn.transport();
    const source = new Exchange(`src-${randomUUID().slice(0, 8)}`, { type: 'topic' });
    const dest = new Exchange(`dst-${randomUUID().slice(0, 8)}`, { type: 'fanout' });
    const q = new Queue(`e2e-${randomUUID().slice(0, 8)}`, { exchange: dest });
    await conn.declare(source);
    await conn.declare(q);
    await transport.bindExchange?.(dest.name, source.name, 'a.#');
    await conn.producer().publish('via two exchanges', { exchange: source, routingKey: 'a.b' });
    const m = await conn.simpleQueue(q).get({ timeout: 2000 });
    expect(m.body).toBe('via two exchanges');
    await m.ack();
    await conn.deleteQueue(q);
  });
});

describe('coalesced socket writes (the socket is corked per burst)', () => {
  const conn = new Connection('amqp://guest:guest@127.0.0.1:5672//');
  afterAll(() => conn.close());

  it('a burst of 5,000 publishes and their acks arrive complete and in order', async () => {
    const q = new Queue(`burst-${randomUUID().slice(0, 8)}`, { autoDelete: false });
    const producer = conn.producer();
    await conn.declare(q);
    await Promise.all(Array.from({ length: 5000 }, (_, i) => producer.publish({ i }, { routingKey: q.name })));
    expect((await conn.queueStatus(q)).messageCount).toBe(5000);
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      const consumer = conn.consumer([q], { prefetch: 1000 }, async (message) => {
        seen.push((message.body as { i: number }).i);
        await message.ack();
        if (seen.length === 5000) void consumer.stop().then(resolve);
      });
      void consumer.start();
    });
    await done;
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    // Every ack reached the broker: nothing is left unacknowledged or ready.
    const status = await conn.queueStatus(q);
    expect(status.messageCount).toBe(0);
    await conn.deleteQueue(q);
  });
});

describe('channels are opened once under concurrency', () => {
  it('20 concurrent get()s on a fresh connection share one channel, and every ack lands', async () => {
    const conn = new Connection('amqp://guest:guest@127.0.0.1:5672//');
    const q = new Queue(`gets-${randomUUID().slice(0, 8)}`);
    try {
      const producer = conn.producer();
      await conn.declare(q);
      await Promise.all(Array.from({ length: 20 }, (_, i) => producer.publish({ i }, { routingKey: q.name })));
      const other = new Connection('amqp://guest:guest@127.0.0.1:5672//');
      const messages = await Promise.all(Array.from({ length: 20 }, () => other.simpleQueue(q).getNowait()));
      expect(messages.map((m) => (m.body as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      await Promise.all(messages.map((m) => m.ack()));
      await other.close(); // unacked messages would come back to the queue here
      expect((await conn.queueStatus(q)).messageCount).toBe(0);
    } finally {
      await conn.deleteQueue(q);
      await conn.close();
    }
  });
});

describe('quorum queues', () => {
  const conn = new Connection('amqp://guest:guest@127.0.0.1:5672//');
  afterAll(() => conn.close());

  it('declares x-queue-type quorum and exposes the delivery count on redelivery', async () => {
    const q = new Queue(`quorum-${randomUUID().slice(0, 8)}`, { durable: true, queueArguments: { 'x-queue-type': 'quorum' } });
    await conn.producer().publish({ id: 'q1' }, { routingKey: q.name, declare: [q] });
    const simple = conn.simpleQueue(q);
    const first = await simple.get({ timeout: 2000 });
    expect([first.body, first.redelivered, first.deliveryInfo.deliveryCount]).toEqual([{ id: 'q1' }, false, 0]);
    await first.requeue();
    const second = await simple.get({ timeout: 2000 });
    expect([second.body, second.redelivered, second.deliveryInfo.deliveryCount]).toEqual([{ id: 'q1' }, true, 1]);
    await second.ack();
    await conn.deleteQueue(q);
  });
});
