/** A queue's `maxLength` with RabbitMQ's two overflow behaviours, applied atomically with the publish. */
import { expect, it } from 'vitest';
import { Exchange, PublishNackedError, Queue, QueueFullError, UnsupportedFeatureError } from '@nori/core';
import { bodies, collect, type SuiteContext } from './context.js';

const ids = (n: number): Array<{ id: number }> => Array.from({ length: n }, (_, i) => ({ id: i + 1 }));

export function maxLengthTests(ctx: SuiteContext, supported: () => boolean): void {
  it('drop-head (the default): the oldest ready messages go to the dead-letter exchange, marked maxlen', async () => {
    const conn = ctx.connection();
    const dlx = new Exchange(ctx.name('maxlen-dlx'), { type: 'direct' });
    const dead = new Queue(ctx.name('maxlen-dead'), { exchange: dlx, routingKey: 'overflow' });
    const work = new Queue(ctx.name('maxlen-head'), { maxLength: 3, deadLetterExchange: dlx.name, deadLetterRoutingKey: 'overflow' });
    if (!supported()) {
      await expect(conn.declare(work)).rejects.toThrow(UnsupportedFeatureError);
      return;
    }
    await conn.declare(dead);
    const producer = conn.producer();
    // Sequential and concurrent publishes: a batched publish applies the limit message by message.
    for (const body of ids(2)) await producer.publish(body, { routingKey: work.name, declare: [work] });
    await Promise.all(
      ids(5)
        .slice(2)
        .map((body) => producer.publish(body, { routingKey: work.name })),
    );
    expect(await conn.queueSize(work)).toBe(3);
    expect(bodies(await collect(conn, [work], 3))).toEqual([{ id: 3 }, { id: 4 }, { id: 5 }]);
    const dropped = await collect(conn, [dead], 2);
    expect(bodies(dropped)).toEqual([{ id: 1 }, { id: 2 }]);
    expect((dropped[0]?.headers['x-death'] as Array<{ reason: string; queue: string }>)[0]).toMatchObject({ reason: 'maxlen', queue: work.name });
    for (const q of [work, dead]) await conn.deleteQueue(q);
    await conn.deleteExchange(dlx);
  });

  it('reject-publish: a publish to the full queue rejects with QueueFullError and the first ones stay, in order', async ({ skip }) => {
    if (!supported()) skip('no maxLength capability (checked above)');
    const conn = ctx.connection();
    const work = new Queue(ctx.name('maxlen-reject'), { maxLength: 3, overflow: 'reject-publish' });
    const producer = conn.producer();
    await producer.publish({ id: 1 }, { routingKey: work.name, declare: [work] });
    // The 2nd to 5th in one batch: two fit, two are refused on their own.
    const settled = await Promise.allSettled(
      ids(5)
        .slice(1)
        .map((body) => producer.publish(body, { routingKey: work.name })),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    // RabbitMQ nacks a refused publish without a reason, so over AMQP it is a PublishNackedError.
    for (const s of settled.slice(2))
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(ctx.options.name.startsWith('amqp') ? PublishNackedError : QueueFullError);
    // The limit is the queue's, not the declaring connection's: another one that never declared it is refused too.
    const other = ctx.connection();
    await expect(other.producer().publish({ id: 6 }, { routingKey: work.name })).rejects.toThrow(
      ctx.options.name.startsWith('amqp') ? PublishNackedError : QueueFullError,
    );
    expect(bodies(await collect(conn, [work], 3))).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    // Room again: publishes go through.
    await producer.publish({ id: 7 }, { routingKey: work.name });
    expect(bodies(await collect(conn, [work], 1))).toEqual([{ id: 7 }]);
    await conn.deleteQueue(work);
  });
}
