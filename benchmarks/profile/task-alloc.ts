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
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import '@nori/amqp';
import '@nori/redis';
import { App, type Worker } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { benchTasks } from '../workers/nori-tasks.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { inWindows, numberArg, runName, stringArg } from '../lib/workload.js';

const COUNT = numberArg('count', 30_000);
const TOP = numberArg('top', 12);
const WARMUP = 5_000;
const BROKER = stringArg('broker') ?? redisUrl();

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

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

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
// Node 20's protocol takes these flags; its typings do not list them yet.
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as { samplingInterval: number });
const { ms, worker } = await runAll(COUNT);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
await worker.stop();
session.disconnect();

const root = fileURLToPath(new URL('../../', import.meta.url));
const bySite = new Map<string, number>();
let total = 0;
const walk = (node: SampleNode): void => {
  const { functionName, url, lineNumber } = node.callFrame;
  const place = url
    .replace(/^file:\/\//, '')
    .replace(root, '')
    .replace(/^.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');
  const site = `${functionName || '(anonymous)'} | ${place ? `${place}:${lineNumber + 1}` : ''}`;
  bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child);
};
walk(profile.head);
const own = [...bySite].filter(([site]) => site.includes('packages/tasks/')).reduce((sum, [, bytes]) => sum + bytes, 0);

console.log(`${COUNT} tasks (no results) preloaded on ${new URL(BROKER).protocol}, one worker in this process: ${Math.round((COUNT / ms) * 1000)} tasks/s`);
console.log(`allocated per task: ${Math.round(total / COUNT)} B in all, ${Math.round(own / COUNT)} B in @nori/tasks frames\n`);
console.log('| # | B/task | site | where |');
console.log('|---|---|---|---|');
[...bySite]
  .sort((a, b) => b[1] - a[1])
  .slice(0, TOP)
  .forEach(([site, bytes], i) => console.log(`| ${i + 1} | ${Math.round(bytes / COUNT)} | ${site} |`));

await leaveNothing(app, queue);
