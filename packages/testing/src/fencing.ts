/**
 * Fenced settles: a consumer whose lease lapsed (its handler blocked the event loop past
 * `maxBlockedMs`, so even the lease keeper gave the lease up) runs the message a second time
 * elsewhere, and its late ack must not delete the claim of the consumer that has the message now.
 * The second owner is then SIGKILLed: the message must still come back.
 */
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Queue } from '@nori/core';
import { child, kill } from './child.js';
import { collect, type SuiteContext } from './context.js';

export function fencingTests(ctx: SuiteContext): void {
  it.skipIf(!ctx.options.childImports || !ctx.options.leases)(
    'a consumer stuck past maxBlockedMs loses its messages: its late ack is ignored with a lease-lost error, its prefetched message is not started',
    async () => {
      const conn = ctx.connection();
      const q = new Queue(ctx.name('fence'));
      await conn.declare(q);
      const flag = join(tmpdir(), `nori-fence-${q.name}`);
      const base = ctx.options.connectionOptions ?? {};
      // The lease keeper gives the stuck consumer's leases up after 2 s: they lapse and go to the owner.
      const stuck = { ...base, transportOptions: { ...base.transportOptions, maxBlockedMs: 2000 } };
      const imports = JSON.stringify(ctx.options.childImports);
      const blocking = child('child-blocking', [ctx.options.url, q.name, flag, JSON.stringify(stuck), imports, '2']);
      let owner: ReturnType<typeof child> | undefined;
      try {
        await blocking.line('keeper', 20_000);
        // One tick, one batch: the stuck consumer claims both, and blocks on x with y prefetched.
        await Promise.all(['x', 'y'].map((id) => conn.producer().publish({ id }, { routingKey: q.name })));
        await blocking.line('got x', 20_000);
        owner = child('child-blocking', [ctx.options.url, q.name, '-', JSON.stringify(base), imports, '2']);
        await owner.line('got x', 30_000);
        writeFileSync(flag, '');
        await blocking.line('done x', 10_000);
        await blocking.line('error ERR_NORI_LEASE_LOST', 10_000);
        // y waited in the stuck consumer's prefetch; the owner holds it now: it must not start here.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(blocking.lines.filter((l) => l.startsWith('got '))).toEqual(['got x']);
        await kill(blocking.proc); // it would take the messages again
        await kill(owner.proc);
        // The late ack deleted nothing: the killed owner's claims lapse and both messages come back.
        const back = await collect(conn, [q], 2, { timeoutMs: 20_000 });
        expect(back.map((m) => `${(m.body as { id: string }).id} ${m.redelivered}`).sort()).toEqual(['x true', 'y true']);
      } finally {
        await Promise.all([kill(blocking.proc), owner && kill(owner.proc)]);
        rmSync(flag, { force: true });
        await conn.deleteQueue(q).catch(() => undefined);
      }
    },
    90_000,
  );
}
