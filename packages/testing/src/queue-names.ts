/**
 * Queue names with characters that break string-built formats (quotes, backslashes, spaces,
 * braces, newlines, non-ASCII): publish, get, requeue and ack work on each, and a message held by
 * a SIGKILLed consumer comes back (the restore sweep on the store-backed transports).
 */
import { spawn } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Queue } from '@nori/core';
import { collect, sleep, type SuiteContext } from './context.js';

const here = fileURLToPath(import.meta.url);
const holder = fileURLToPath(new URL(`./child-blocking${extname(here)}`, import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

const ODD = ['say "hi"', 'back\\slash', 'with space', '{braces}', 'new\nline', 'ünïcödé-キュー', 'all of "\\ {} \n ü'];

/** RabbitMQ declares a queue whose name has a newline, then answers NOT_FOUND for it: not nori's to fix. */
function oddNames(url: string): string[] {
  return url.startsWith('amqp') ? ODD.filter((name) => !name.includes('\n')) : ODD;
}

export function queueNameTests(ctx: SuiteContext): void {
  it('queue names with quotes, backslashes, spaces, braces, newlines and non-ASCII: publish, requeue, ack', async () => {
    const conn = ctx.connection();
    for (const odd of oddNames(ctx.options.url)) {
      const inbox = conn.simpleQueue(new Queue(`${ctx.name('odd')} ${odd}`));
      await inbox.put({ n: 1 });
      await inbox.put({ n: 2 });
      const first = await inbox.get({ timeout: 2000 });
      await first.requeue();
      // Back in the queue by the requeue itself, not by a sweep after its lease lapsed.
      const until = Date.now() + 1000;
      while ((await conn.queueSize(inbox.queue)) < 2 && Date.now() < until) await sleep(50);
      expect(await conn.queueSize(inbox.queue), odd).toBe(2);
      // Requeued to the back (virtual transports) or in place (RabbitMQ): compare as a set.
      const rest = [await inbox.get({ timeout: 2000 }), await inbox.get({ timeout: 2000 })];
      for (const m of rest) await m.ack();
      const seen = rest.map((m) => [m.body, m.redelivered]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      expect(seen, odd).toEqual([
        [{ n: 1 }, true],
        [{ n: 2 }, false],
      ]);
      expect(await conn.queueSize(inbox.queue), odd).toBe(0);
      await conn.deleteQueue(inbox.queue);
    }
  }, 30_000);

  it.skipIf(!ctx.options.childImports)(
    'a message of an oddly named queue held by a SIGKILLed consumer comes back',
    async () => {
      const conn = ctx.connection();
      const q = new Queue(`${ctx.name('odd-kill')} ${oddNames(ctx.options.url).at(-1) as string}`);
      await conn.producer().publish({ id: 'held' }, { routingKey: q.name, declare: [q] });
      const args = [ctx.options.url, q.name, '-', JSON.stringify(ctx.options.connectionOptions ?? {}), JSON.stringify(ctx.options.childImports)];
      const child = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', holder, ...args], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the holding child printed ${JSON.stringify(out)}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('got held')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const [back] = await collect(conn, [q], 1, { timeoutMs: 20_000 });
      expect([back?.body, back?.redelivered]).toEqual([{ id: 'held' }, true]);
      await conn.deleteQueue(q);
    },
    45_000,
  );
}
