/** A consumer process killed with SIGKILL mid-stream: every message it held comes back, redelivered. */
import { spawn } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Queue, type Message } from '@nori/core';
import { collect, type SuiteContext } from './context.js';

const here = fileURLToPath(import.meta.url);
const childScript = fileURLToPath(new URL(`./child-consumer${extname(here)}`, import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export function redeliveryTests(ctx: SuiteContext): void {
  it.skipIf(!ctx.options.childImports)('messages held by a SIGKILLed consumer are delivered again', async () => {
    const conn = ctx.connection();
    const q = new Queue(ctx.name('kill'));
    const ids = Array.from({ length: 20 }, (_, i) => `m-${i}`);
    const producer = conn.producer();
    for (const id of ids) await producer.publish({ id }, { routingKey: q.name, declare: [q] });

    const child = spawn(
      process.execPath,
      ['--conditions=nori-src', '--import', 'tsx', childScript, ctx.options.url, q.name, '5', JSON.stringify(ctx.options.connectionOptions ?? {}), JSON.stringify(ctx.options.childImports)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const held: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child got ${held.length} messages; stderr: ${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n').filter(Boolean)) if (line !== 'ready') held.push(line);
        if (held.length >= 5) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(held).toEqual(ids.slice(0, 5));

    const got: Message[] = await collect(conn, [q], ids.length, { timeoutMs: 25_000 });
    const byId = new Map(got.map((m) => [(m.body as { id: string }).id, m]));
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const id of held) expect(byId.get(id)?.redelivered, id).toBe(true);
    expect(await conn.queueSize(q)).toBe(0);
  }, 60_000);
}
