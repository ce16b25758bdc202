/**
 * Bytes allocated per task by a nori App used as a client, the sending side of bench:latency:
 * `--count` `bench.add` tasks sent one at a time, each result awaited with `get({ timeout })`
 * before the next send, against a worker in a process of its own (so only the sender is
 * profiled), on REDIS_URL (or `--broker`) with results on its database 1 (or `--backend`). Runs
 * under V8's sampling heap profiler, counting objects the collector already freed too: unlike
 * latency, allocation does not move with the machine's load. Prints the bytes per task in all and
 * in @nori/* frames, and the top allocation sites (inlined callees count as their caller).
 *   node --conditions=nori-src --import tsx benchmarks/profile/send-alloc.ts [--count 5000] [--top 15]
 */
import '@nori/amqp';
import '@nori/redis';
import { App } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { benchTasks } from '../workers/nori-tasks.js';
import { bytesIn, printTopSites, profileAllocations } from '../lib/alloc-profile.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { WorkerProcess } from '../lib/worker-process.js';
import { numberArg, runName, stringArg } from '../lib/workload.js';

const COUNT = numberArg('count', 5_000);
const TOP = numberArg('top', 15);
const WARMUP = 1_000;
const BROKER = stringArg('broker') ?? redisUrl();
const BACKEND = stringArg('backend') ?? redisUrl(1);

const queue = runName('send-alloc');
const worker = await WorkerProcess.start({ kind: 'nori', broker: BROKER, backend: BACKEND, queue, concurrency: 100, app: OWN_NAMES });
const app = new App({ broker: BROKER, backend: BACKEND, defaultQueue: queue, ...OWN_NAMES });
const { add } = benchTasks(app);

/** Sends `count` tasks one at a time, each awaited as bench:latency awaits it; resolves with the ms it took. */
async function sendAll(count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const result = await add.delay(i, 1);
    if ((await Promise.race([result.get({ timeout: 60_000 }), worker.died])) !== i + 1) throw new Error(`task ${i}: wrong result`);
  }
  return performance.now() - started;
}

await sendAll(WARMUP);
const { result: ms, allocations } = await profileAllocations(() => sendAll(COUNT));
const own = bytesIn(allocations, 'packages/');

console.log(`${COUNT} tasks sent one at a time, each result awaited, on ${new URL(BROKER).protocol}: ${Math.round((COUNT / ms) * 1000)} tasks/s`);
console.log(`allocated per task: ${Math.round(allocations.total / COUNT)} B in all, ${Math.round(own / COUNT)} B in @nori/* frames\n`);
printTopSites('site', allocations.bySite, COUNT, TOP);
console.log('');
printTopSites('innermost nori frame', allocations.byNoriFrame, COUNT, TOP);

await worker.stop();
await leaveNothing(app, queue);
