/**
 * Python kombu 5.2 over py-amqp (Debian's /usr/bin/python3) and nori on the same RabbitMQ: both
 * directions through the default, direct and topic exchanges, with priorities and headers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, Exchange, Queue } from '@nori/core';
import { collect, TestNames } from '@nori/testing';
import '@nori/amqp';
import { kombuConsume, kombuPublish } from '@nori/testing/kombu';
import { AMQP_URL } from '@nori/testing/brokers';

const NORI_URL = AMQP_URL;
const KOMBU_URL = AMQP_URL.replace(/^amqp:/, 'pyamqp:');
const names = new TestNames('interop');
const name = (what: string): string => names.name(what);
const conn = new Connection(NORI_URL);
afterAll(async () => {
  await names.deleteAll(conn);
  await conn.close();
});

describe('Python kombu 5.2 ↔ nori over RabbitMQ', () => {
  it('Python → nori: priorities order the queue, headers and properties arrive intact', async () => {
    const q = new Queue(name('py2node'), { maxPriority: 10 });
    await conn.declare(q);
    await kombuPublish(KOMBU_URL, {
      exchange: '',
      messages: [
        { body: { n: 'low' }, routing_key: q.name, priority: 1, headers: { from: 'python', tags: ['a', 'b'] } },
        { body: { n: 'urgent' }, routing_key: q.name, priority: 9 },
        { body: { n: 'middle' }, routing_key: q.name, priority: 5 },
      ],
    });
    const got = await collect(conn, [q], 3);
    expect(got.map((m) => m.body)).toEqual([{ n: 'urgent' }, { n: 'middle' }, { n: 'low' }]);
    expect(got.map((m) => m.properties.priority)).toEqual([9, 5, 1]);
    expect(got[2]?.headers).toEqual({ from: 'python', tags: ['a', 'b'] });
    expect(got[0]?.contentType).toBe('application/json');
  });

  it('nori → Python: priorities and headers', async () => {
    const q = new Queue(name('node2py'), { maxPriority: 10 });
    const producer = conn.producer();
    await producer.publish({ n: 'low' }, { routingKey: q.name, declare: [q], priority: 2, headers: { from: 'node', n: 1 } });
    await producer.publish({ n: 'urgent' }, { routingKey: q.name, priority: 8 });
    await producer.publish({ n: 'middle' }, { routingKey: q.name, priority: 5 });
    const got = await kombuConsume(KOMBU_URL, { queue: q.name, exchange: '', max_priority: 10, count: 3 }).result;
    expect(got.map((m) => m.body)).toEqual([{ n: 'urgent' }, { n: 'middle' }, { n: 'low' }]);
    expect(got.map((m) => m.priority)).toEqual([8, 5, 2]);
    expect(got[2]?.headers).toEqual({ from: 'node', n: 1 });
  });

  it('direct and topic exchanges, both ways', async () => {
    const direct = new Exchange(name('direct'), { type: 'direct' });
    const topic = new Exchange(name('topic'), { type: 'topic' });
    const dq = new Queue(name('dq'), { exchange: direct, routingKey: 'k' });
    const tq = new Queue(name('tq'), { exchange: topic, routingKey: 'a.*' });
    await conn.declare(dq);
    await conn.declare(tq);
    await kombuPublish(KOMBU_URL, {
      exchange: direct.name,
      type: 'direct',
      messages: [
        { body: 'for k', routing_key: 'k' },
        { body: 'nobody', routing_key: 'x' },
      ],
    });
    await kombuPublish(KOMBU_URL, {
      exchange: topic.name,
      type: 'topic',
      messages: [
        { body: 'a.b', routing_key: 'a.b' },
        { body: 'a.b.c', routing_key: 'a.b.c' },
      ],
    });
    expect((await collect(conn, [dq], 2, { timeoutMs: 1500 })).map((m) => m.body)).toEqual(['for k']);
    expect((await collect(conn, [tq], 2, { timeoutMs: 1500 })).map((m) => m.body)).toEqual(['a.b']);

    const py = kombuConsume(KOMBU_URL, { queue: name('pytq'), exchange: topic.name, type: 'topic', routing_key: 'x.#', count: 2, timeout: 5 });
    await py.ready;
    for (const key of ['x.y.z', 'y.x', 'x']) await conn.producer().publish(key, { exchange: topic, routingKey: key });
    expect((await py.result).map((m) => m.body)).toEqual(['x.y.z', 'x']);
  });
});
