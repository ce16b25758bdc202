/**
 * Bytes allocated per task by one nori worker at full load: `--count` trivial tasks
 * (`bench.add_quiet`, no result) preloaded in a queue of this run on REDIS_URL (or `--broker`), then run by a
 * worker (concurrency 100) in this process under V8's sampling heap profiler, counting objects the
 * collector already freed too. Allocation drives the worker's largest frame, the garbage
 * collector, and unlike tasks/s it does not move with the machine's load. Prints the bytes per
 * task in all and in @nori/tasks' own frames, and the top allocation sites (the frame that
 * allocated; inlined callees count as their caller).
 *   node --import tsx benchmarks/profile/task-alloc.ts [--count 30000] [--top 12] [--broker amqp://...]
 */
import '@nori/amqp';
import '@nori/redis';
import { App, type Worker } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { benchTasks } from '../workers/nori-tasks.js';
import { bytesIn, printTopSites, profileAllocations } from '../lib/alloc-profile.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { inWindows, numberArg, runName, stringArg } from '../lib/workload.js';

const COUNT = numberArg('count', 30_000);
const TOP = numberArg('top', 12);
const WARMUP = 5_000;
const BROKER = stringArg('broker') ?? redisUrl();

const queue = runName('task-alloc');
const app = new App({ broker: BROKER, defaultQueue: queue, ...OWN_NAMES });
const { addQuiet } = benchTasks(app);

/** A fresh worker runs the `count` tasks waiting in the queue; resolves with the ms it took. */
async function runAll(count: number): Promise<{ ms: number; worker: Worker }> {
  const worker = app.worker({ concurrency: 100 });
  let done = 0;
  const finished = new Promise<void>((resolve) => worker.on('task-succeeded', () => ++done === count && resolve()));
  const started = performance.now();
  await worker.start();
  await finished;
  return { ms: performance.now() - started, worker };
}

const preload = (count: number): Promise<number> => inWindows(count, 1000, (i) => addQuiet.delay(i, 1));

await preload(WARMUP);
const warm = await runAll(WARMUP);
await warm.worker.stop();
await preload(COUNT);

const { result, allocations } = await profileAllocations(() => runAll(COUNT));
const { ms, worker } = result;
await worker.stop();
const own = bytesIn(allocations, 'packages/tasks/');

console.log(`${COUNT} tasks (no results) preloaded on ${new URL(BROKER).protocol}, one worker in this process: ${Math.round((COUNT / ms) * 1000)} tasks/s`);
console.log(`allocated per task: ${Math.round(allocations.total / COUNT)} B in all, ${Math.round(own / COUNT)} B in @nori/tasks frames\n`);
printTopSites('site', allocations.bySite, COUNT, TOP);

await leaveNothing(app, queue);
