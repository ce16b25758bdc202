/**
 * A consumer process killed with SIGKILL mid-stream: every message it held comes back, redelivered,
 * ahead of the messages that were waiting behind it.
 */
import { spawn } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Exchange, Queue, RedeliveryLimitError, type Message } from '@nori/core';
import { collect, sleep, type SuiteContext } from './context.js';

const here = fileURLToPath(import.meta.url);
const childScript = fileURLToPath(new URL(`./child-consumer${extname(here)}`, import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Start a consumer process on `queue` that never settles; resolves with the ids it holds once it holds `count`. */
async function holdInChild(ctx: SuiteContext, queue: string, prefetch: number, count: number): Promise<{ held: string[]; kill: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=nori-src',
      '--import',
      'tsx',
      childScript,
      ctx.options.url,
      queue,
      String(prefetch),
      JSON.stringify(ctx.options.connectionOptions ?? {}),
      JSON.stringify(ctx.options.childImports),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const held: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child got ${held.length} messages; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) if (line !== 'ready') held.push(line);
      if (held.length >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  child.removeAllListeners('exit');
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  return { held, kill };
}

const ids = (messages: readonly Message[]): string[] => messages.map((m) => (m.body as { id: string }).id);

export function redeliveryTests(ctx: SuiteContext): void {
  it.skipIf(!ctx.options.childImports)(
    'messages held by a SIGKILLed consumer are delivered again',
    async () => {
      const conn = ctx.connection();
      const q = new Queue(ctx.name('kill'));
      const all = Array.from({ length: 20 }, (_, i) => `m-${i}`);
      const producer = conn.producer();
      for (const id of all) await producer.publish({ id }, { routingKey: q.name, declare: [q] });

      const { held, kill } = await holdInChild(ctx, q.name, 5, 5);
      await kill();
      expect(held).toEqual(all.slice(0, 5));

      const got: Message[] = await collect(conn, [q], all.length, { timeoutMs: 25_000 });
      const byId = new Map(got.map((m) => [(m.body as { id: string }).id, m]));
      expect([...byId.keys()].sort()).toEqual([...all].sort());
      for (const id of held) expect(byId.get(id)?.redelivered, id).toBe(true);
      expect(await conn.queueSize(q)).toBe(0);
    },
    60_000,
  );

  it.skipIf(!ctx.options.childImports)(
    'a message whose consumer died comes back ahead of the messages waiting behind it',
    async () => {
      const conn = ctx.connection();
      const q = new Queue(ctx.name('kill-order'));
      const producer = conn.producer();
      await producer.publish({ id: 'held' }, { routingKey: q.name, declare: [q] });
      const { held, kill } = await holdInChild(ctx, q.name, 1, 1);
      expect(held).toEqual(['held']);
      for (const id of ['w-1', 'w-2']) await producer.publish({ id }, { routingKey: q.name });
      await sleep(3500); // the child renews its lease a few times first: a renewed lease must lapse too
      await kill();
      // Wait until the lapsed lease is swept back (AMQP returns it at once), consuming nothing before.
      const deadline = Date.now() + 20_000;
      while ((await conn.queueSize(q)) < 3 && Date.now() < deadline) await sleep(200);
      const got = await collect(conn, [q], 3, { timeoutMs: 5000 });
      expect(ids(got)).toEqual(['held', 'w-1', 'w-2']);
      expect(got.map((m) => m.redelivered)).toEqual([true, false, false]);
      await conn.deleteQueue(q);
    },
    60_000,
  );

  it.skipIf(!ctx.options.childImports || !ctx.options.leases)(
    'each death of its holder counts a lapse (message.lapses); past maxLapses the message is dead-lettered, not run again',
    async () => {
      const conn = ctx.connection();
      const dlx = new Exchange(ctx.name('lapse-dlx'), { type: 'direct' });
      const dead = new Queue(ctx.name('lapse-dead'), { exchange: dlx, routingKey: 'dead' });
      const q = new Queue(ctx.name('lapse'), { deadLetterExchange: dlx.name, deadLetterRoutingKey: 'dead' });
      await conn.declare(dead);
      await conn.producer().publish({ id: 'p' }, { routingKey: q.name, declare: [q] });
      await (await holdInChild(ctx, q.name, 1, 1)).kill();
      const inbox = conn.simpleQueue(q);
      const back = await inbox.get({ timeout: 20_000 });
      expect([back.body, back.lapses, back.redelivered]).toEqual([{ id: 'p' }, 1, true]);
      await back.requeue(); // a requeue is not a lapse
      await (await holdInChild(ctx, q.name, 1, 1)).kill();

      const errors: Error[] = [];
      const ran: unknown[] = [];
      const consumer = conn.consumer([q], { maxLapses: 1 }, (m) => {
        ran.push(m.body);
      });
      consumer.on('error', (error) => errors.push(error));
      await consumer.start();
      const [deadLettered] = await collect(conn, [dead], 1, { timeoutMs: 20_000 });
      await consumer.stop();
      expect(ran).toEqual([]);
      expect(errors.map((e) => e.constructor)).toEqual([RedeliveryLimitError]);
      expect(errors[0]?.message).toMatch(/came back 2 times after its lease lapsed.*more than maxLapses \(1\)/);
      // The dead-lettered copy is a new message of its queue: no lapses of its own.
      expect([deadLettered?.body, deadLettered?.lapses, (deadLettered?.headers['x-death'] as Array<{ reason: string }>)[0]?.reason]).toEqual([
        { id: 'p' },
        0,
        'rejected',
      ]);
      await inbox.close();
    },
    90_000,
  );
}
