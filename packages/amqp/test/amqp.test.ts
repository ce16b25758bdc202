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
