/**
 * A worker process for the fault tests: `node --import tsx fault-worker.ts <broker> <queue> <leaseMs>`.
 * Prints `ready` once consuming, then `start <id> <retries>` and `done <id>` per task run, so the
 * parent sees every run even of a process it SIGKILLs.
 */
import '@nori/redis';
import { App, currentTask } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';

const [broker, queue, leaseMs] = process.argv.slice(2) as [string, string, string];
const app = new App({
  broker,
  backend: redisUrl(1),
  defaultQueue: queue,
  connection: { transportOptions: { leaseMs: Number(leaseMs) } },
});
const say = (line: string): void => void process.stdout.write(`${line}\n`);

app.task('fault.sleep', async (ms: number) => {
  const { id } = currentTask();
  say(`start ${id}`);
  await new Promise((r) => setTimeout(r, ms));
  say(`done ${id}`);
  return process.pid;
});

const worker = app.worker({ queues: [queue], concurrency: 4, prefetchMultiplier: 1 });
await worker.start();
say('ready');
