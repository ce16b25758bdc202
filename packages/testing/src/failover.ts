/** kombu's BaseFailover: a dead first URL is skipped transparently. */
import { expect, it } from 'vitest';
import { Queue } from '@nori/core';
import { bodies, collect, type SuiteContext } from './context.js';

export function failoverTests(ctx: SuiteContext): void {
  it.skipIf(!ctx.options.deadUrl)('connects through a failover list whose first URL is dead', async () => {
    const conn = ctx.connection(`${ctx.options.deadUrl};${ctx.options.url}`);
    const urls: string[] = [];
    conn.on('connected', (url) => urls.push(url));
    const q = new Queue(ctx.name('failover'));
    await conn.producer().publish({ via: 'second url' }, { routingKey: q.name, declare: [q] });
    expect(urls).toHaveLength(1);
    expect(urls[0]).not.toBe(conn.urls[0]?.masked);
    expect(bodies(await collect(conn, [q], 1))).toEqual([{ via: 'second url' }]);
    const sq = conn.simpleBuffer(ctx.name('failover-buffer'));
    await sq.put({ buffered: true });
    expect((await sq.get({ timeout: 2000 })).body).toEqual({ buffered: true });
  });
}
