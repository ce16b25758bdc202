/**
 * A task worker process for the blocked-loop fault test:
 * `node --import tsx lease-blocked-worker.ts <broker> <backend> <queue> <leaseMs> <prefetch>`.
 * `show.spin(ms)` blocks the event loop (a synchronous, CPU-bound task); `show.quick(n)` returns.
 * Prints `ready` once consuming, `keeper` once the lease keeper's thread is connected, `start <name>
 * <id>` / `done <name> <id>` per run, and `error <code>` per error event of the worker.
 */
import '@nori/mongodb';
import '@nori/redis';
import { NoriError, silentLogger } from '@nori/core';
import { App, currentTask } from '@nori/tasks';

const [broker, backend, queue, leaseMs, prefetch] = process.argv.slice(2) as [string, string, string, string, string];
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const logger = { ...silentLogger, debug: (_: object | string, msg?: string) => void (msg?.includes('lease keeper connected') && say('keeper')) };
const app = new App({ broker, backend, defaultQueue: queue, connection: { transportOptions: { leaseMs: Number(leaseMs) }, logger } });

app.task('show.spin', (ms: number) => {
  const { id } = currentTask();
  say(`start show.spin ${id}`);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // CPU-bound: no timer, no I/O of this thread runs meanwhile
  }
  say(`done show.spin ${id}`);
  return ms;
});
app.task('show.quick', (n: number) => {
  const { id } = currentTask();
  say(`start show.quick ${id}`);
  say(`done show.quick ${id}`);
  return n;
});

const worker = app.worker({ queues: [queue], concurrency: 1, prefetchMultiplier: Number(prefetch) });
worker.on('error', (error) => say(`error ${error instanceof NoriError ? error.code : error.name}`));
await worker.start();
say('ready');
