/**
 * #22's show, on Redis and MongoDB: two worker processes (the public @nori/tasks API), one
 * synchronous task three times the lease that blocks its worker's event loop, and 40 quick tasks
 * that the same worker prefetched with it. Without the lease keeper the blocked worker's leases
 * lapse, the other worker takes the long task and its 40 neighbours, the long task starts over and
 * over, and the neighbours run twice. Required: the long task starts at most twice and ends settled
 * (its result stored), and no quick task runs twice. Kills nothing; the brokers are the tests' own.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@nori/mongodb';
import '@nori/redis';
import { Connection } from '@nori/core';
import { App } from '@nori/tasks';
import { child, kill, type Child } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';
import { mongoUrl, startServer, stopServer } from '../packages/mongodb/test/server.js';

const WORKER = fileURLToPath(new URL('./lease-blocked-worker.ts', import.meta.url));
const LEASE_MS = 2000;
const QUICK = 40;

function runs(workers: readonly Child[], name: string): Map<string, number> {
  const count = new Map<string, number>();
  for (const w of workers) {
    for (const line of w.lines) {
      const [what, task, id] = line.split(' ');
      if (what === 'start' && task === name) count.set(id as string, (count.get(id as string) ?? 0) + 1);
    }
  }
  return count;
}

function show(transport: string, broker: () => string): void {
  it(`${transport}: a synchronous task 3x the lease starts at most twice and settles; none of the 40 prefetched with it runs twice`, async () => {
    const queue = `lease-blocked-${randomUUID().slice(0, 8)}`;
    const backend = redisUrl(1);
    const app = new App({ broker: broker(), backend, defaultQueue: queue });
    const args = [broker(), backend, queue, String(LEASE_MS), String(QUICK + 1)];
    const workers = [child(WORKER, args), child(WORKER, args)];
    try {
      for (const w of workers) {
        await w.line('ready', 30_000);
        await w.line('keeper', 30_000);
      }
      // One tick, one batch: the worker that claims first takes the long task and the 40 behind it.
      const results = await Promise.all([
        app.sendTask('show.spin', [3 * LEASE_MS]),
        ...Array.from({ length: QUICK }, (_, n) => app.sendTask('show.quick', [n])),
      ]);
      const values = await Promise.all(results.map((r) => r.get({ timeout: 60_000 })));
      expect(values).toEqual([3 * LEASE_MS, ...Array.from({ length: QUICK }, (_, n) => n)]);
      // Two more leases: a lapsed lease would have been swept and its message run again by now.
      await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
      const long = runs(workers, 'show.spin');
      const quick = runs(workers, 'show.quick');
      const twice = [...quick].filter(([, n]) => n > 1);
      console.log(`${transport}: the long task started ${[...long.values()][0]} time(s); ${twice.length} of ${quick.size} quick tasks ran twice`);
      expect([...long.values()]).toHaveLength(1);
      expect([...long.values()][0]).toBeLessThanOrEqual(2);
      expect(quick.size).toBe(QUICK);
      expect(twice).toEqual([]);
      expect(workers.flatMap((w) => w.lines.filter((l) => l.startsWith('error')))).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => kill(w.proc)));
      const conn = new Connection(broker());
      await conn.deleteQueue(queue).catch(() => undefined);
      // The App declared the default queue's exchange of the same name: it goes too.
      await conn.deleteExchange(queue).catch(() => undefined);
      await conn.close();
      await app.close();
    }
  }, 120_000);
}

describe('a synchronous task longer than the lease, two workers', () => {
  beforeAll(startServer);
  afterAll(stopServer);
  show('redis', () => redisUrl());
  show('mongodb', () => mongoUrl);
});
