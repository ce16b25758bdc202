/** kombu's BasicFunctionality: connect/close, failing connects, publish/consume, empty queue, SimpleQueue/SimpleBuffer. */
import { expect, it } from 'vitest';
import { ConnectionClosedError, ConnectionError, MessageTooLargeError, Queue, QueueEmptyError } from '@nori/core';
import { bodies, collect, type SuiteContext } from './context.js';

export function basicTests(ctx: SuiteContext): void {
  it('connects lazily, closes, and does not connect again once closed', async () => {
    const conn = ctx.connection();
    expect(conn.connected).toBe(false);
    await conn.connect();
    expect(conn.connected).toBe(true);
    expect(conn.capabilities.exchangeTypes).toContain('direct');
    await conn.close();
    expect(conn.connected).toBe(false);
    await expect(conn.connect()).rejects.toThrow(ConnectionClosedError);
    expect(conn.connected).toBe(false);
  });

  it.skipIf(!ctx.options.deadUrl)('a connect to an unreachable broker rejects with ConnectionError, promptly', async () => {
    const conn = ctx.connection(ctx.options.deadUrl as string);
    const started = Date.now();
    await expect(conn.connect()).rejects.toThrow(ConnectionError);
    await expect(conn.producer().publish({ a: 1 }, { routingKey: 'x' })).rejects.toThrow(ConnectionError);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a publish over the transport option maxBodySize is refused with MessageTooLargeError naming the limit, and nothing is stored; one at the limit is', async () => {
    const conn = ctx.connection(ctx.options.url, { transportOptions: { maxBodySize: 1000 } });
    const queue = new Queue(ctx.name('body-limit'));
    await conn.declare(queue);
    const producer = conn.producer();
    const error: unknown = await producer.publish(new Uint8Array(1001), { routingKey: queue.name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toMatch(/1001 bytes .* limit of 1000 .*maxBodySize/);
    await producer.publish(new Uint8Array(1000).fill(7), { routingKey: queue.name });
    expect(await conn.queueSize(queue)).toBe(1);
    const m = await conn.simpleQueue(queue).getNowait();
    expect([m.rawBody.byteLength, m.rawBody[999]]).toEqual([1000, 7]);
    await m.ack();
    expect(await conn.queueSize(queue)).toBe(0);
  });

  it('publishes and consumes a round trip with declare, retry and accept', async () => {
    const conn = ctx.connection();
    const queue = new Queue(ctx.name('rt'));
    await conn.producer().publish({ hello: 'world', n: [1, 2] }, { routingKey: queue.name, declare: [queue], retry: true, serializer: 'json' });
    const [m] = await collect(conn, [queue], 1);
    expect(m?.body).toEqual({ hello: 'world', n: [1, 2] });
    expect(m?.contentType).toBe('application/json');
    expect(m?.contentEncoding).toBe('utf-8');
    expect(m?.deliveryInfo.routingKey).toBe(queue.name);
    expect(m?.acknowledged).toBe(true);
    await conn.deleteQueue(queue);
  });

  it('an empty queue delivers nothing and get() times out with QueueEmptyError', async () => {
    const conn = ctx.connection();
    const queue = new Queue(ctx.name('empty'));
    const got = await collect(conn, [queue], 1, { timeoutMs: 500 });
    expect(got).toEqual([]);
    const sq = conn.simpleQueue(queue);
    const started = Date.now();
    await expect(sq.get({ timeout: 300 })).rejects.toThrow(QueueEmptyError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await expect(sq.getNowait()).rejects.toThrow(QueueEmptyError);
    await conn.deleteQueue(queue);
  });

  for (const kind of ['simpleQueue', 'simpleBuffer'] as const) {
    it(`${kind} keeps body, content type, encoding and exactly the headers sent`, async () => {
      const conn = ctx.connection();
      const sq = conn[kind](ctx.name(kind));
      await sq.put({ id: 1, text: 'héllo' }, { headers: { k1: 'v1', n: 2 } });
      await sq.put({ id: 2 });
      const m = await sq.get({ timeout: 2000 });
      expect(m.body).toEqual({ id: 1, text: 'héllo' });
      expect(m.headers).toEqual({ k1: 'v1', n: 2 });
      expect(m.contentType).toBe('application/json');
      expect(m.contentEncoding).toBe('utf-8');
      await m.ack();
      const second = await sq.get({ timeout: 2000 });
      expect(second.body).toEqual({ id: 2 });
      expect(second.headers).toEqual({});
      await second.ack();
      expect(await sq.qsize()).toBe(0);
      await conn.deleteQueue(sq.queue);
    });
  }

  it('the async iterator yields messages in order and stops on break', async () => {
    const conn = ctx.connection();
    const queue = new Queue(ctx.name('iter'));
    const producer = conn.producer();
    for (const n of [1, 2, 3, 4]) await producer.publish({ n }, { routingKey: queue.name, declare: [queue] });
    const seen: unknown[] = [];
    for await (const m of conn.consume([queue], { prefetch: 2 })) {
      seen.push(m.body);
      await m.ack();
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    const rest = await collect(conn, [queue], 2);
    expect(bodies(rest)).toEqual([{ n: 3 }, { n: 4 }]);
    await conn.deleteQueue(queue);
  });
}
