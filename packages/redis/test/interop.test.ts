/**
 * Python kombu 5.2 (Debian's /usr/bin/python3) and nori on the same Redis: messages go both ways
 * through the default, direct, topic and fanout exchanges, and priorities keep their order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, Exchange, Queue } from '@nori/core';
import { collect, TestNames } from '@nori/testing';
import '@nori/redis';
import { kombuConsume, kombuPublish } from '@nori/testing/kombu';
import { redisUrl } from '@nori/testing/brokers';

const BROKER = redisUrl();
const names = new TestNames('interop');
const name = (what: string): string => names.name(what);
const pythonPublish = (spec: object): Promise<void> => kombuPublish(BROKER, spec);
const pythonConsume = (spec: object): ReturnType<typeof kombuConsume> => kombuConsume(BROKER, spec);

const conn = new Connection(BROKER);
afterAll(async () => {
  await names.deleteAll(conn);
  await conn.close();
});

describe('Python kombu 5.2 ↔ nori over Redis', () => {
  it('default exchange, Python → nori: kombu priorities arrive in the same order, mapped to nori meaning', async () => {
    const q = new Queue(name('py2node'), { maxPriority: 9 });
    await conn.declare(q);
    await pythonPublish({
      exchange: '',
      messages: [
        { body: { n: 1 }, routing_key: q.name, priority: 6, headers: { from: 'python' } },
        { body: { n: 2 }, routing_key: q.name, priority: 0 },
        { body: { n: 3 }, routing_key: q.name, priority: 6 },
        { body: { n: 4 }, routing_key: q.name, priority: 3 },
      ],
    });
    const got = await collect(conn, [q], 4);
    expect(got.map((m) => m.body)).toEqual([{ n: 2 }, { n: 4 }, { n: 1 }, { n: 3 }]);
    expect(got.map((m) => m.properties.priority)).toEqual([9, 6, 3, 3]);
    expect(got[2]?.headers).toEqual({ from: 'python' });
    expect(got[0]?.contentType).toBe('application/json');
  });

  it('default exchange, nori → Python: nori priorities 9 > 5 > 1 come out of kombu in that order', async () => {
    const q = new Queue(name('node2py'), { maxPriority: 9 });
    const producer = conn.producer();
    await producer.publish({ n: 'low' }, { routingKey: q.name, declare: [q], priority: 1, headers: { from: 'node' } });
    await producer.publish({ n: 'urgent' }, { routingKey: q.name, priority: 9 });
    await producer.publish({ n: 'middle' }, { routingKey: q.name, priority: 5 });
    const { result } = pythonConsume({ queue: q.name, exchange: '', count: 3 });
    const got = await result;
    expect(got.map((m) => m.body)).toEqual([{ n: 'urgent' }, { n: 'middle' }, { n: 'low' }]);
    expect(got.map((m) => m.priority)).toEqual([0, 4, 8]);
    expect(got[2]?.headers).toEqual({ from: 'node' });
  });

  it('messages without a priority from Python and nori are served in arrival order, by nori and by Python', async () => {
    for (const consumer of ['nori', 'python'] as const) {
      const q = new Queue(name(`nopri-${consumer}`));
      await conn.declare(q);
      const producer = conn.producer();
      await pythonPublish({ exchange: '', messages: [{ body: { n: 'py-1' }, routing_key: q.name }] });
      await producer.publish({ n: 'node-1' }, { routingKey: q.name });
      await pythonPublish({ exchange: '', messages: [{ body: { n: 'py-2' }, routing_key: q.name }] });
      await producer.publish({ n: 'node-2' }, { routingKey: q.name });
      const got =
        consumer === 'nori'
          ? (await collect(conn, [q], 4)).map((m) => m.body)
          : (await pythonConsume({ queue: q.name, exchange: '', count: 4 }).result).map((m) => m.body);
      expect(got, consumer).toEqual([{ n: 'py-1' }, { n: 'node-1' }, { n: 'py-2' }, { n: 'node-2' }]);
      await conn.deleteQueue(q);
    }
  });

  it('direct exchange, both ways', async () => {
    const ex = new Exchange(name('direct'), { type: 'direct' });
    const q = new Queue(name('dq'), { exchange: ex, routingKey: 'k' });
    await conn.declare(q);
    await pythonPublish({
      exchange: ex.name,
      type: 'direct',
      messages: [
        { body: 'for k', routing_key: 'k' },
        { body: 'for nobody', routing_key: 'x' },
      ],
    });
    expect((await collect(conn, [q], 2, { timeoutMs: 1500 })).map((m) => m.body)).toEqual(['for k']);

    const pq = name('pyq');
    const py = pythonConsume({ queue: pq, exchange: ex.name, type: 'direct', routing_key: 'pk', count: 1 });
    await py.ready;
    await conn.producer().publish('to python', { exchange: ex, routingKey: 'pk' });
    expect((await py.result).map((m) => [m.body, m.routing_key])).toEqual([['to python', 'pk']]);
  });

  it('topic exchange, both ways, with AMQP wildcard semantics', async () => {
    const ex = new Exchange(name('topic'), { type: 'topic' });
    const q = new Queue(name('tq'), { exchange: ex, routingKey: 'a.*' });
    await conn.declare(q);
    await pythonPublish({
      exchange: ex.name,
      type: 'topic',
      messages: [
        { body: 'a.b', routing_key: 'a.b' },
        { body: 'a.b.c', routing_key: 'a.b.c' },
        { body: 'a', routing_key: 'a' },
      ],
    });
    expect((await collect(conn, [q], 3, { timeoutMs: 1500 })).map((m) => m.body)).toEqual(['a.b']);

    const py = pythonConsume({ queue: name('pytq'), exchange: ex.name, type: 'topic', routing_key: 'x.#', count: 2, timeout: 5 });
    await py.ready;
    const producer = conn.producer();
    for (const key of ['x.y.z', 'y.x', 'x']) await producer.publish(key, { exchange: ex, routingKey: key });
    expect((await py.result).map((m) => m.body)).toEqual(['x.y.z', 'x']);
  });

  it('fanout exchange (kombu’s PUBLISH channels), both ways', async () => {
    const ex = new Exchange(name('fanout'), { type: 'fanout' });
    const py = pythonConsume({ queue: name('pyf'), exchange: ex.name, type: 'fanout', routing_key: '', count: 1 });
    await py.ready;
    await conn.producer().publish({ hello: 'python' }, { exchange: ex });
    expect((await py.result).map((m) => m.body)).toEqual([{ hello: 'python' }]);

    const q = new Queue(name('nf'), { exchange: ex });
    const received = collect(conn, [q], 1);
    await new Promise((r) => setTimeout(r, 300));
    await pythonPublish({ exchange: ex.name, type: 'fanout', messages: [{ body: { hello: 'node' } }] });
    expect((await received).map((m) => m.body)).toEqual([{ hello: 'node' }]);
  });
});
