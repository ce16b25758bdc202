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
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import '@nori/amqp';
import '@nori/redis';
import { App } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';
import { benchTasks } from '../workers/nori-tasks.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { WorkerProcess } from '../lib/worker-process.js';
import { numberArg, runName, stringArg } from '../lib/workload.js';

const COUNT = numberArg('count', 5_000);
const TOP = numberArg('top', 15);
const WARMUP = 1_000;
const BROKER = stringArg('broker') ?? redisUrl();
const BACKEND = stringArg('backend') ?? redisUrl(1);

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

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
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
// Node 20's protocol takes these flags; its typings do not list them yet.
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as { samplingInterval: number });
const ms = await sendAll(COUNT);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
session.disconnect();

const root = fileURLToPath(new URL('../../', import.meta.url));
const bySite = new Map<string, number>();
let total = 0;
/** The same bytes by the innermost nori frame above the allocating one: what each nori call costs in the libraries below it. */
const byCaller = new Map<string, number>();
const walk = (node: SampleNode, caller: string): void => {
  const { functionName, url, lineNumber } = node.callFrame;
  const place = url
    .replace(/^file:\/\//, '')
    .replace(root, '')
    .replace(/^.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');
  const site = `${functionName || '(anonymous)'} | ${place ? `${place}:${lineNumber + 1}` : ''}`;
  const own = place.startsWith('packages/') ? site : caller;
  bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  byCaller.set(own, (byCaller.get(own) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child, own);
};
walk(profile.head, '(no nori frame)');
const own = [...bySite].filter(([site]) => site.includes('packages/')).reduce((sum, [, bytes]) => sum + bytes, 0);

console.log(`${COUNT} tasks sent one at a time, each result awaited, on ${new URL(BROKER).protocol}: ${Math.round((COUNT / ms) * 1000)} tasks/s`);
console.log(`allocated per task: ${Math.round(total / COUNT)} B in all, ${Math.round(own / COUNT)} B in @nori/* frames\n`);
console.log('| # | B/task | site | where |');
console.log('|---|---|---|---|');
[...bySite]
  .sort((a, b) => b[1] - a[1])
  .slice(0, TOP)
  .forEach(([site, bytes], i) => console.log(`| ${i + 1} | ${Math.round(bytes / COUNT)} | ${site} |`));
console.log('\n| # | B/task | innermost nori frame | where |');
console.log('|---|---|---|---|');
[...byCaller]
  .sort((a, b) => b[1] - a[1])
  .slice(0, TOP)
  .forEach(([site, bytes], i) => console.log(`| ${i + 1} | ${Math.round(bytes / COUNT)} | ${site} |`));

await worker.stop();
await leaveNothing(app, queue);
