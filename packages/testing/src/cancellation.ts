/**
 * Cancellation and disposal on every transport: AbortSignal on get, connect, publish and the async
 * iterator; `await using`; close() ending what is pending and leaving nothing behind.
 */
import { expect, it } from 'vitest';
import { AbortError, Connection, Queue } from '@nori/core';
import { child, childrenRunnable, kill } from './child.js';
import { collect, sleep, type SuiteContext } from './context.js';

/** How soon after close() a process with nothing else to do must have exited (a loaded CI machine included). */
const EXIT_AFTER_CLOSE_MS = 1000;
/**
 * A child process's start, connect and close: its own time, not vitest's 5 s default (which a
 * project running this suite with its own config gets; check:packages timed out on it).
 */
const CHILD_TEST_MS = 30_000;

export function cancellationTests(ctx: SuiteContext): void {
  /** child-close in `mode` on `url`: what it printed, and how long after `closed` it exited. */
  async function closeInChild(mode: 'live' | 'dead', url: string): Promise<{ lines: string[]; exitMs: number }> {
    const args = [mode, url, ctx.name('close'), JSON.stringify(ctx.options.connectionOptions ?? {}), JSON.stringify(ctx.options.childImports ?? [])];
    const c = child('child-close', args);
    const exited = new Promise<number>((resolve) => c.proc.once('exit', () => resolve(Date.now())));
    try {
      await c.line('closed', 20_000);
      const closedAt = Date.now();
      const exitedAt = await Promise.race([exited, sleep(3000).then(() => Infinity)]);
      return { lines: c.lines, exitMs: exitedAt - closedAt };
    } finally {
      await kill(c.proc);
    }
  }

  it.skipIf(!childrenRunnable)(
    'a closed connection leaves nothing pending (no timer, no socket): its process exits at once',
    async () => {
      const { exitMs } = await closeInChild('live', ctx.options.url);
      expect(exitMs).toBeLessThan(EXIT_AFTER_CLOSE_MS);
    },
    CHILD_TEST_MS,
  );

  it.skipIf(!ctx.options.deadUrl || !childrenRunnable)(
    'close() ends a pending ensureConnection with ConnectionClosedError, leaves nothing pending and connects no more',
    async () => {
      const { lines, exitMs } = await closeInChild('dead', ctx.options.deadUrl as string);
      expect(lines).toEqual(['rejected ERR_NORI_CONNECTION_CLOSED', 'reconnect ERR_NORI_CONNECTION_CLOSED', 'closed']);
      expect(exitMs).toBeLessThan(EXIT_AFTER_CLOSE_MS + (ctx.options.failedConnectLingerMs ?? 0));
    },
    CHILD_TEST_MS,
  );

  it('an aborted get rejects with AbortError at once, and a message sent afterwards is not lost', async () => {
    const conn = ctx.connection();
    const sq = conn.simpleQueue(ctx.name('abort'));
    const controller = new AbortController();
    const started = Date.now();
    const pending = sq.get({ signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(sq.get({ signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
    await sq.put({ after: 'abort' });
    const m = await sq.get({ timeout: 5000 });
    expect(m.body).toEqual({ after: 'abort' });
    await m.ack();
    await conn.deleteQueue(sq.queue);
  });

  it('await using closes the connection and stops the consumer', async () => {
    const q = new Queue(ctx.name('using'));
    let outer: Connection | undefined;
    let consumerRunning: () => boolean = () => true;
    {
      await using conn = new Connection(ctx.options.url, ctx.options.connectionOptions);
      outer = conn;
      await using consumer = conn.consumer([q], () => undefined);
      await consumer.start();
      consumerRunning = () => consumer.running;
      expect(conn.connected).toBe(true);
    }
    expect(consumerRunning()).toBe(false);
    expect(outer.connected).toBe(false);
    await ctx.connection().deleteQueue(q);
  });

  it.skipIf(!ctx.options.deadUrl)('ensureConnection to an unreachable broker stops at once when aborted', async () => {
    const conn = ctx.connection(ctx.options.deadUrl as string);
    const controller = new AbortController();
    const started = Date.now();
    const pending = conn.ensureConnection({ intervalStart: 200, intervalStep: 200, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toThrow(AbortError);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(conn.connect({ signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
  });

  it('an aborted publish rejects with AbortError and sends nothing', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('abort-pub'));
    await conn.declare(q);
    await expect(conn.producer().publish({ n: 1 }, { routingKey: q.name, signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
    await expect(conn.producer().publish({ n: 2 }, { routingKey: q.name, declare: [q], retry: true, signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
    await conn.producer().publish({ n: 3 }, { routingKey: q.name });
    const got = await collect(conn, [q], 2, { timeoutMs: 1000 });
    expect(got.map((m) => m.body)).toEqual([{ n: 3 }]);
    await conn.deleteQueue(q);
  });

  it('aborting the async iterator ends the loop with AbortError and returns the held message', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('abort-iter'));
    for (const n of [1, 2]) await conn.producer().publish({ n }, { routingKey: q.name, declare: [q] });
    const controller = new AbortController();
    const seen: unknown[] = [];
    const loop = (async () => {
      for await (const m of conn.consume<{ n: number }>([q], { prefetch: 1, signal: controller.signal })) {
        seen.push(m.body.n);
        controller.abort();
      }
    })();
    await expect(loop).rejects.toThrow(AbortError);
    expect(seen).toEqual([1]);
    // The loop never settled n=1: it went back, so both are still there.
    const rest = await collect(conn, [q], 2, { timeoutMs: 5000 });
    expect(rest.map((m) => (m.body as { n: number }).n).sort()).toEqual([1, 2]);
    await conn.deleteQueue(q);
  });
}
