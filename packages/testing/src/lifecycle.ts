/** kombu's BaseMessage plus nori's consumer guarantees: settle once, dead-lettering, accept refusal, stop(), prefetch. */
import { expect, it } from 'vitest';
import { ContentDisallowedError, Exchange, MessageStateError, NotFoundError, Queue, QueueEmptyError, type Message } from '@nori/core';
import { bodies, collect, sleep, type SuiteContext } from './context.js';

export function lifecycleTests(ctx: SuiteContext): void {
  it('ack removes the message for good', async () => {
    const conn = ctx.connection();
    const sq = conn.simpleQueue(ctx.name('ack'));
    await sq.put({ id: 'a' });
    const m = await sq.get({ timeout: 2000 });
    await m.ack();
    await expect(sq.getNowait()).rejects.toThrow(QueueEmptyError);
    await conn.close();
    const again = ctx.connection();
    await expect(again.simpleQueue(sq.queue).get({ timeout: 300 })).rejects.toThrow(QueueEmptyError);
  });

  it('reject drops the message; requeue makes it available again, marked redelivered', async () => {
    const conn = ctx.connection();
    const sq = conn.simpleQueue(ctx.name('rej'));
    await sq.put({ id: 'dropped' });
    await (await sq.get({ timeout: 2000 })).reject();
    await expect(sq.get({ timeout: 300 })).rejects.toThrow(QueueEmptyError);

    await sq.put({ id: 'again' });
    const first = await sq.get({ timeout: 2000 });
    expect(first.redelivered).toBe(false);
    await first.requeue();
    const second = await sq.get({ timeout: 2000 });
    expect(second.body).toEqual({ id: 'again' });
    expect(second.redelivered).toBe(true);
    await second.ack();
  });

  it('a second settle throws MessageStateError', async () => {
    const conn = ctx.connection();
    const sq = conn.simpleQueue(ctx.name('twice'));
    await sq.put({ id: 1 });
    const m = await sq.get({ timeout: 2000 });
    await m.ack();
    await expect(m.ack()).rejects.toThrow(MessageStateError);
    await expect(m.reject()).rejects.toThrow(MessageStateError);
    await expect(m.requeue()).rejects.toThrow(MessageStateError);
  });

  it('reject dead-letters to the queue’s dead-letter exchange', async () => {
    const conn = ctx.connection();
    const dlx = new Exchange(ctx.name('dlx'), { type: 'direct' });
    const dead = new Queue(ctx.name('dead'), { exchange: dlx, routingKey: 'dead' });
    const work = new Queue(ctx.name('work'), { deadLetterExchange: dlx.name, deadLetterRoutingKey: 'dead' });
    await conn.declare(dead);
    await conn.producer().publish({ id: 'doomed' }, { routingKey: work.name, declare: [work] });
    await (await conn.simpleQueue(work).get({ timeout: 2000 })).reject();
    const [m] = await collect(conn, [dead], 1);
    expect(m?.body).toEqual({ id: 'doomed' });
    expect((m?.headers['x-death'] as Array<{ reason: string; queue: string }>)[0]).toMatchObject({ reason: 'rejected', queue: work.name });
  });

  it('a queue with an expiry is deleted with its binding once unused that long, though its owner never closed', async () => {
    const exchange = new Exchange(ctx.name('expiry'), { type: 'direct' });
    const queue = new Queue(ctx.name('expiring'), { exchange, routingKey: 'k', expires: 500 });
    // Declared, then left open and unused, as by a process that was SIGKILLed.
    await ctx.connection().declare(queue);
    const other = ctx.connection();
    let returned = 0;
    other.on('returned', () => void returned++);
    // Routed into the queue while it lives; returned (no binding left) once it is gone. Publishing
    // is no use of the queue (RabbitMQ's rule), and the queue itself is not looked at meanwhile.
    const deadline = Date.now() + 8000;
    while (returned === 0 && Date.now() < deadline) {
      await other.producer().publish({ n: 1 }, { exchange, routingKey: 'k', mandatory: true });
      await sleep(200);
    }
    expect(returned).toBe(1);
    await expect(other.queueStatus(queue)).rejects.toThrow(NotFoundError);
  });

  it('a content type outside accept is rejected, reported, and consumption goes on', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('accept'));
    const producer = conn.producer();
    await producer.publish({ n: 1 }, { routingKey: q.name, declare: [q] });
    await producer.publish('<xml/>', { routingKey: q.name, contentType: 'application/xml' });
    await producer.publish({ n: 2 }, { routingKey: q.name });
    const seen: unknown[] = [];
    const errors: Error[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const consumer = conn.consumer([q], { accept: ['json'] }, async (m) => {
      seen.push(m.body);
      await m.ack();
      if (seen.length === 2) done();
    });
    consumer.on('error', (e) => errors.push(e));
    await consumer.start();
    await finished;
    await consumer.stop();
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ContentDisallowedError);
    expect(errors[0]?.message).toContain('application/xml');
    await sleep(100);
    expect(await conn.queueSize(q)).toBe(0);
  });

  it('prefetch bounds the unsettled messages in flight', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('prefetch'));
    const producer = conn.producer();
    for (let n = 0; n < 5; n++) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    const held: Message[] = [];
    const finishers: Array<() => void> = [];
    // Handlers stay running (one that returns gets its message acked): only the test settles.
    const consumer = conn.consumer([q], { prefetch: 2, concurrency: 5 }, (m) => {
      held.push(m);
      return new Promise<void>((finish) => finishers.push(finish));
    });
    await consumer.start();
    await sleep(500);
    expect(held.length).toBe(2);
    await held[0]?.ack();
    await sleep(300);
    expect(held.length).toBe(3);
    for (const m of held.slice(1)) await m.ack();
    await sleep(300);
    expect(held.length).toBe(5);
    for (const m of held.slice(3)) await m.ack();
    for (const finish of finishers) finish();
    await consumer.stop();
  });

  it('stop() waits for the running handler and returns prefetched messages, in order', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('stop'));
    const producer = conn.producer();
    for (let n = 0; n < 5; n++) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const handled: unknown[] = [];
    const consumer = conn.consumer([q], { prefetch: 3 }, async (m) => {
      started();
      await gate;
      handled.push(m.body);
      await m.ack();
    });
    await consumer.start();
    await running;
    await sleep(200);
    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    await sleep(100);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(handled).toEqual([{ n: 0 }]);
    const rest = await collect(conn, [q], 4);
    expect(bodies(rest)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });
}
