/**
 * A worker process for the chord kill test: `node --import tsx chord-worker.ts <broker> <queue> <leaseMs> <runsKey>`.
 * Header parts (`chaos.part`) sleep a few ms and return their index; the body (`chaos.sum`) counts
 * each of its runs in the hash `<runsKey>` (by its task id) before it returns the sum, so the parent
 * sees duplicate body runs even of processes it SIGKILLs. Prints `ready` once consuming.
 */
import { Redis } from 'ioredis';
import '@nori/redis';
import { App, currentTask } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';

const [broker, queue, leaseMs, runsKey] = process.argv.slice(2) as [string, string, string, string];
const app = new App({ broker, backend: redisUrl(1), defaultQueue: queue, connection: { transportOptions: { leaseMs: Number(leaseMs) } } });
const runs = new Redis(redisUrl(1));

app.task('chaos.part', async (i: number, ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return i;
});
app.task('chaos.sum', async (parts: number[]) => {
  await runs.hincrby(runsKey, currentTask().id, 1);
  return parts.reduce((a, b) => a + b, 0);
});

const worker = app.worker({ queues: [queue], concurrency: 4, prefetchMultiplier: 1 });
await worker.start();
process.stdout.write('ready\n');
