/**
 * What a consumer promises its handler on every transport: typed bodies checked by a Standard
 * Schema, settling by return value, retries with backoff, dead-lettering after the last attempt,
 * never-silent failures.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { ATTEMPT_HEADER, Exchange, Queue, QueueEmptyError, SchemaValidationError, type Logger, type Message } from '@nori/core';
import { collect, sleep, until, type SuiteContext } from './context.js';

/** A queue dead-lettering to a second queue, both with unique names. */
function withDeadLetter(ctx: SuiteContext, what: string): { work: Queue; dead: Queue } {
  const dlx = new Exchange(ctx.name(`${what}-dlx`), { type: 'direct' });
  const dead = new Queue(ctx.name(`${what}-dead`), { exchange: dlx, routingKey: 'dead' });
  const work = new Queue(ctx.name(what), { deadLetterExchange: dlx.name, deadLetterRoutingKey: 'dead' });
  return { work, dead };
}

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object | string;
  msg: string | undefined;
}

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: Line['level']) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function consumerPolicyTests(ctx: SuiteContext): void {
  it('a typed consumer with a schema rejects a bad body (dead-lettered, error event with the issues) and keeps going', async () => {
    const conn = ctx.connection();
    const { work, dead } = withDeadLetter(ctx, 'schema');
    await conn.declare(dead);
    const producer = conn.producer();
    await producer.publish({ id: 1, name: 'a' }, { routingKey: work.name, declare: [work] });
    await producer.publish({ id: 'two', name: 'b' }, { routingKey: work.name });
    await producer.publish({ id: 3, name: 'c' }, { routingKey: work.name });
    const Order = z.object({ id: z.number(), name: z.string().transform((s) => s.toUpperCase()) });
    const seen: Array<{ id: number; name: string }> = [];
    const errors: Error[] = [];
    const consumer = conn.consumer([work], { schema: Order }, (m) => {
      seen.push(m.body);
    });
    consumer.on('error', (e) => errors.push(e));
    await consumer.start();
    await until(() => seen.length === 2, 10_000, 'two valid messages');
    await consumer.stop();
    expect(seen).toEqual([
      { id: 1, name: 'A' },
      { id: 3, name: 'C' },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SchemaValidationError);
    expect((errors[0] as SchemaValidationError).issues[0]?.path).toEqual(['id']);
    expect(errors[0]?.message).toContain('id:');
    const [deadLettered] = await collect(conn, [dead], 1);
    expect(deadLettered?.body).toEqual({ id: 'two', name: 'b' });
    expect(await conn.queueSize(work)).toBe(0);
  });

  it('a simple queue with a schema: get rejects a bad body with SchemaValidationError, then returns the next good one', async () => {
    const conn = ctx.connection();
    const sq = conn.simpleQueue(ctx.name('sq-schema'), { schema: z.object({ n: z.number().int() }) });
    await sq.put({ n: 1.5 });
    await sq.put({ n: 2 });
    await expect(sq.get({ timeout: 2000 })).rejects.toThrow(SchemaValidationError);
    const m = await sq.get({ timeout: 2000 });
    expect(m.body).toEqual({ n: 2 });
    await m.ack();
    expect(await sq.qsize()).toBe(0);
    await conn.deleteQueue(sq.queue);
  });

  it('a handler that returns without settling gets its message acked', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('return'));
    await conn.producer().publish({ n: 1 }, { routingKey: q.name, declare: [q] });
    let handled: Message | undefined;
    const consumer = conn.consumer([q], (m) => {
      handled = m;
    });
    await consumer.start();
    await until(() => handled?.acknowledged === true, 10_000, 'the message to be settled');
    await consumer.stop();
    expect(handled?.state).toBe('ACK');
    await conn.close();
    // Closing returns every unsettled message; an acked one is gone for good.
    const again = ctx.connection();
    await expect(again.simpleQueue(q).get({ timeout: 300 })).rejects.toThrow(QueueEmptyError);
    await again.deleteQueue(q);
  });

  it('a publish with a delay is held until due, never delivered early', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('delay'));
    await conn.declare(q);
    const got: Array<{ id: string; at: number }> = [];
    // Consuming before the publishes: a consumer that waits is what a too early delivery would reach.
    const consumer = conn.consumer([q], (m) => {
      got.push({ id: (m.body as { id: string }).id, at: Date.now() });
    });
    await consumer.start();
    const sent = Date.now();
    await conn.producer().publish({ id: 'later' }, { routingKey: q.name, delay: 600 });
    await conn.producer().publish({ id: 'now' }, { routingKey: q.name });
    await until(() => got.length === 2, 10_000, 'both messages');
    await consumer.stop();
    expect(got.map((m) => m.id)).toEqual(['now', 'later']);
    expect((got[1] as { at: number }).at - sent).toBeGreaterThanOrEqual(550);
    await conn.deleteQueue(q);
  });

  it('a handler that throws twice then succeeds is retried with the configured backoff and acked once', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('retry'));
    await conn.producer().publish({ id: 'flaky' }, { routingKey: q.name, declare: [q] });
    const calls: Array<{ at: number; attempt: unknown; id: unknown }> = [];
    const errors: Error[] = [];
    let last: Message | undefined;
    const consumer = conn.consumer([q], { retry: { attempts: 3, backoff: { type: 'exponential', delay: 300, jitter: false } } }, (m) => {
      calls.push({ at: Date.now(), attempt: m.headers[ATTEMPT_HEADER], id: (m.body as { id: string }).id });
      last = m;
      if (calls.length < 3) throw new Error(`failure ${calls.length}`);
    });
    consumer.on('error', (e) => errors.push(e));
    await consumer.start();
    await until(() => calls.length === 3 && last?.state === 'ACK', 20_000, 'the third attempt to be acked');
    await sleep(700); // long enough for a stray extra retry to show
    await consumer.stop();
    expect(calls.map((c) => c.attempt)).toEqual([undefined, 2, 3]);
    expect(calls.map((c) => c.id)).toEqual(['flaky', 'flaky', 'flaky']);
    expect(errors.map((e) => e.message)).toEqual(['failure 1', 'failure 2']);
    const [first, second, third] = calls.map((c) => c.at) as [number, number, number];
    // 300 ms then 600 ms; the machine is loaded, so only the lower bound is tight.
    expect(second - first).toBeGreaterThanOrEqual(280);
    expect(second - first).toBeLessThan(300 + 6000);
    expect(third - second).toBeGreaterThanOrEqual(580);
    expect(third - second).toBeLessThan(600 + 6000);
    await conn.close();
    const again = ctx.connection();
    expect(await again.queueSize(q)).toBe(0);
    await expect(again.simpleQueue(q).get({ timeout: 300 })).rejects.toThrow(QueueEmptyError);
    await again.deleteQueue(q);
  });

  it('a handler that always throws ends dead-lettered after N attempts, with the attempt number in its headers', async () => {
    const conn = ctx.connection();
    const { work, dead } = withDeadLetter(ctx, 'exhaust');
    await conn.declare(dead);
    await conn.producer().publish({ id: 'doomed' }, { routingKey: work.name, declare: [work], headers: { tenant: 'x' } });
    let calls = 0;
    const consumer = conn.consumer([work], { retry: { attempts: 4, backoff: { type: 'fixed', delay: 100, jitter: false } } }, () => {
      calls++;
      throw new Error('always');
    });
    consumer.on('error', () => undefined);
    await consumer.start();
    const [deadLettered] = await collect(conn, [dead], 1, { timeoutMs: 20_000 });
    await consumer.stop();
    expect(calls).toBe(4);
    expect(deadLettered?.body).toEqual({ id: 'doomed' });
    expect(deadLettered?.headers[ATTEMPT_HEADER]).toBe(4);
    expect(deadLettered?.headers['tenant']).toBe('x');
    expect(await conn.queueSize(work)).toBe(0);
  });

  it('dead letters to a fanout exchange are stored in every bound queue, with no consumer listening', async () => {
    const conn = ctx.connection();
    const dlx = new Exchange(ctx.name('fan-dlx'), { type: 'fanout' });
    const deadQueues = [new Queue(ctx.name('fan-dead-a'), { exchange: dlx }), new Queue(ctx.name('fan-dead-b'), { exchange: dlx })];
    const work = new Queue(ctx.name('fan-work'), { deadLetterExchange: dlx.name });
    for (const q of deadQueues) await conn.declare(q);
    const messageId = ctx.name('doomed');
    await conn.producer().publish({ id: messageId }, { routingKey: work.name, declare: [work], messageId });
    let calls = 0;
    const consumer = conn.consumer([work], { retry: { attempts: 3, backoff: { type: 'fixed', delay: 50, jitter: false } } }, () => {
      calls++;
      throw new Error('always');
    });
    consumer.on('error', () => undefined);
    await consumer.start();
    // Nobody consumes the bound queues meanwhile (a listener would hide a broadcast): stored or lost.
    const deadline = Date.now() + 10_000;
    const stored = async (): Promise<number[]> => Promise.all(deadQueues.map((q) => conn.queueSize(q)));
    while ((await stored()).some((n) => n === 0) && Date.now() < deadline) await sleep(50);
    await consumer.stop();
    expect(calls).toBe(3);
    expect(await stored()).toEqual([1, 1]);
    const deadLettered = await Promise.all(deadQueues.map((q) => conn.simpleQueue(q).getNowait()));
    expect(deadLettered.map((m) => [m.properties.messageId, m.body, m.headers[ATTEMPT_HEADER]])).toEqual([
      [messageId, { id: messageId }, 3],
      [messageId, { id: messageId }, 3],
    ]);
    await Promise.all(deadLettered.map((m) => m.ack()));
    expect(await Promise.all([work, ...deadQueues].map((q) => conn.queueSize(q)))).toEqual([0, 0, 0]);
  });

  it('with no error listener a throwing handler prints one warn line through the logger; the default policy requeues once', async () => {
    const lines: Line[] = [];
    const conn = ctx.connection(ctx.options.url, { logger: recordingLogger(lines) });
    const q = new Queue(ctx.name('warn'));
    await conn.producer().publish({ n: 1 }, { routingKey: q.name, declare: [q] });
    const calls: boolean[] = [];
    const consumer = conn.consumer([q], (m) => {
      calls.push(m.redelivered);
      if (calls.length === 1) throw new Error('first run fails');
    });
    await consumer.start();
    await until(() => calls.length === 2, 10_000, 'the requeued message');
    await consumer.stop();
    expect(calls).toEqual([false, true]);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toContain('requeued');
    expect((warns[0]?.obj as { err: Error }).err.message).toBe('first run fails');
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines.some((l) => l.level === 'debug' && l.msg === 'nori consumer: started')).toBe(true);
    await conn.deleteQueue(q);
  });
}
