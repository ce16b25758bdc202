/** kombu's BaseExchangeTypes plus AMQP's edge cases: direct, topic, fanout, headers, unroutable, mandatory. */
import { expect, it } from 'vitest';
import { Exchange, Queue, UnsupportedFeatureError, type Connection, type ReturnedMessage } from '@nori/core';
import { bodies, collect, sleep, type SuiteContext } from './context.js';

async function sizes(conn: Connection, queues: Queue[]): Promise<number[]> {
  return Promise.all(queues.map((q) => conn.queueSize(q)));
}

export function exchangeTests(ctx: SuiteContext, capabilities: () => { headers: boolean; mandatory: boolean }): void {
  it('direct: an empty routing key reaches the queue bound with it', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('direct'), { type: 'direct' });
    const q = new Queue(ctx.name('dq'), { exchange: ex, routingKey: '' });
    await conn.producer().publish({ via: 'direct' }, { exchange: ex, declare: [q] });
    expect(bodies(await collect(conn, [q], 1))).toEqual([{ via: 'direct' }]);
  });

  it('direct: keys select queues; an unroutable message is dropped silently', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('direct'), { type: 'direct' });
    const q1 = new Queue(ctx.name('d1'), { exchange: ex, routingKey: 'd1' });
    const q2 = new Queue(ctx.name('d2'), { exchange: ex, routingKey: 'd2' });
    const producer = conn.producer();
    await producer.publish({ to: 'd1' }, { exchange: ex, routingKey: 'd1', declare: [q1, q2] });
    await producer.publish({ to: 'd3' }, { exchange: ex, routingKey: 'd3' });
    await sleep(100);
    expect(await sizes(conn, [q1, q2])).toEqual([1, 0]);
    expect(bodies(await collect(conn, [q1], 1))).toEqual([{ to: 'd1' }]);
  });

  it('fanout: every bound queue gets a copy, in publish order', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('fanout'), { type: 'fanout' });
    const q1 = new Queue(ctx.name('f1'), { exchange: ex });
    const q2 = new Queue(ctx.name('f2'), { exchange: ex });
    // Enough broadcasts that a transport spreading them over several servers would reorder some.
    const sent = Array.from({ length: 20 }, (_, i) => ({ n: i }));
    const c1 = collect(conn, [q1], sent.length);
    const c2 = collect(conn, [q2], sent.length);
    await sleep(200); // consumers first: broadcast transports deliver only to live subscribers
    const producer = conn.producer();
    for (const body of sent) await producer.publish(body, { exchange: ex });
    expect(bodies(await c1)).toEqual(sent);
    expect(bodies(await c2)).toEqual(sent);
  });

  it('fanout: a delayed publish reaches every bound queue once due, never before', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('fanout-later'), { type: 'fanout' });
    const queues = [new Queue(ctx.name('fl1'), { exchange: ex }), new Queue(ctx.name('fl2'), { exchange: ex })];
    for (const q of queues) await conn.declare(q);
    const got: Array<Array<{ id: string; at: number }>> = [[], []];
    const consumers = queues.map((q, i) =>
      conn.consumer([q], (m) => {
        got[i]?.push({ id: (m.body as { id: string }).id, at: Date.now() });
      }),
    );
    for (const c of consumers) await c.start();
    await sleep(200); // consumers first: broadcast transports deliver only to live subscribers
    const sent = Date.now();
    const producer = conn.producer();
    await producer.publish({ id: 'later' }, { exchange: ex, delay: 600 });
    await producer.publish({ id: 'now' }, { exchange: ex });
    for (let i = 0; i < 100 && got.some((g) => g.length < 2); i++) await sleep(50);
    for (const c of consumers) await c.stop();
    for (const g of got) {
      expect(g.map((m) => m.id)).toEqual(['now', 'later']);
      expect((g[1] as { at: number }).at - sent).toBeGreaterThanOrEqual(550);
    }
  });

  it('topic: "t.*" matches t.1, "t" does not; "#" is zero or more words, "*" exactly one', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('topic'), { type: 'topic' });
    const star1 = new Queue(ctx.name('ts1'), { exchange: ex, routingKey: 't.*' });
    const star2 = new Queue(ctx.name('ts2'), { exchange: ex, routingKey: 't.*' });
    const plain = new Queue(ctx.name('t'), { exchange: ex, routingKey: 't' });
    const hash = new Queue(ctx.name('ah'), { exchange: ex, routingKey: 'a.#' });
    const mid = new Queue(ctx.name('asc'), { exchange: ex, routingKey: 'a.*.c' });
    const producer = conn.producer();
    await producer.publish('t.1', { exchange: ex, routingKey: 't.1', declare: [star1, star2, plain, hash, mid] });
    await producer.publish('a', { exchange: ex, routingKey: 'a' });
    await producer.publish('a.b.c', { exchange: ex, routingKey: 'a.b.c' });
    await producer.publish('a.b.x.c', { exchange: ex, routingKey: 'a.b.x.c' });
    await sleep(100);
    expect(await sizes(conn, [star1, star2, plain, hash, mid])).toEqual([1, 1, 0, 3, 1]);
    expect(bodies(await collect(conn, [hash], 3))).toEqual(['a', 'a.b.c', 'a.b.x.c']);
    expect(bodies(await collect(conn, [mid], 1))).toEqual(['a.b.c']);
  });

  it('publishing to an exchange with no bindings is harmless', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('lonely'), { type: 'topic' });
    await conn.declare(ex);
    await expect(conn.producer().publish({ x: 1 }, { exchange: ex, routingKey: 'any.thing' })).resolves.toBeUndefined();
  });

  it('headers: x-match all and any', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('headers'), { type: 'headers' });
    if (!capabilities().headers) {
      await expect(conn.declare(ex)).rejects.toThrow(UnsupportedFeatureError);
      return;
    }
    const all = new Queue(ctx.name('hall'), { exchange: ex, bindingArguments: { 'x-match': 'all', format: 'pdf', type: 'report' } });
    const any = new Queue(ctx.name('hany'), { exchange: ex, bindingArguments: { 'x-match': 'any', format: 'pdf', type: 'log' } });
    const producer = conn.producer();
    await producer.publish('both', { exchange: ex, headers: { format: 'pdf', type: 'report' }, declare: [all, any] });
    await producer.publish('log', { exchange: ex, headers: { type: 'log' } });
    await producer.publish('none', { exchange: ex, headers: { type: 'zip' } });
    await sleep(100);
    expect(await sizes(conn, [all, any])).toEqual([1, 2]);
    expect(bodies(await collect(conn, [any], 2))).toEqual(['both', 'log']);
  });

  it('mandatory: an unroutable message comes back as a returned event', async () => {
    const conn = ctx.connection();
    const ex = new Exchange(ctx.name('mand'), { type: 'direct' });
    await conn.connect();
    if (!capabilities().mandatory) return;
    const returned: ReturnedMessage[] = [];
    conn.on('returned', (r) => returned.push(r));
    await conn.producer().publish({ lost: true }, { exchange: ex, routingKey: 'nobody', mandatory: true });
    for (let i = 0; i < 20 && returned.length === 0; i++) await sleep(50);
    expect(returned.map((r) => [r.exchange, r.routingKey])).toEqual([[ex.name, 'nobody']]);
  });
}
