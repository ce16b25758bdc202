/**
 * Fenced settles: a consumer whose lease lapsed (its handler blocked the event loop longer than
 * the lease) runs the message a second time elsewhere, and its late ack must not delete the claim
 * of the consumer that has the message now. The second owner is then SIGKILLed: the message must
 * still come back.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Queue } from '@nori/core';
import { collect, type SuiteContext } from './context.js';

const here = fileURLToPath(import.meta.url);
const script = (name: string): string => fileURLToPath(new URL(`./${name}${extname(here)}`, import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** A child process and the lines it printed; `line(predicate)` waits for one. */
function child(
  name: string,
  args: readonly string[],
): { proc: ChildProcessWithoutNullStreams; lines: string[]; line: (want: string, ms: number) => Promise<void> } {
  const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', script(name), ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    lines.push(...d.toString().split('\n').filter(Boolean));
    for (const w of waiters) w();
  });
  const line = (want: string, ms: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!lines.includes(want)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(
        () => reject(new Error(`${name} did not print "${want}" within ${ms} ms; printed ${JSON.stringify(lines)}; stderr: ${stderr}`)),
        ms,
      );
      waiters.add(check);
      check();
    });
  return { proc, lines, line };
}

async function kill(proc: ChildProcessWithoutNullStreams): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGKILL');
  await new Promise((resolve) => proc.once('exit', resolve));
}

export function fencingTests(ctx: SuiteContext): void {
  it.skipIf(!ctx.options.childImports || !ctx.options.leases)(
    'a late ack after the lease lapsed is ignored with a lease-lost error: the new owner keeps the message',
    async () => {
      const conn = ctx.connection();
      const q = new Queue(ctx.name('fence'));
      await conn.producer().publish({ id: 'x' }, { routingKey: q.name, declare: [q] });
      const flag = join(tmpdir(), `nori-fence-${q.name}`);
      const common = [JSON.stringify(ctx.options.connectionOptions ?? {}), JSON.stringify(ctx.options.childImports)];
      const blocking = child('child-blocking', [ctx.options.url, q.name, flag, ...common]);
      let owner: ReturnType<typeof child> | undefined;
      try {
        await blocking.line('got x', 20_000);
        owner = child('child-blocking', [ctx.options.url, q.name, '-', ...common]);
        // The blocked worker renews nothing; its lease lapses and the message goes to the other one.
        await owner.line('got x', 30_000);
        writeFileSync(flag, '');
        await blocking.line('done', 10_000);
        await blocking.line('error ERR_NORI_LEASE_LOST', 10_000);
        await kill(blocking.proc); // it would take the message again
        await kill(owner.proc);
        // The late ack deleted nothing: the killed owner's claim lapses and the message comes back.
        const [back, ...more] = await collect(conn, [q], 1, { timeoutMs: 20_000 });
        expect(more).toEqual([]);
        expect([back?.body, back?.redelivered]).toEqual([{ id: 'x' }, true]);
      } finally {
        await Promise.all([kill(blocking.proc), owner && kill(owner.proc)]);
        rmSync(flag, { force: true });
        await conn.deleteQueue(q).catch(() => undefined);
      }
    },
    90_000,
  );
}
