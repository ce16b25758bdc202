/**
 * Task layer end to end: publish N trivial tasks (add(i, 1)), a worker in a process of its own runs
 * them, timed until the last is done; with and without stored results. On Redis nori beside BullMQ
 * (addBulk + Worker, concurrency 100), celery-node (its client and worker), Python Celery 5.2's solo
 * worker and its prefork pool with -c 2, and nori's own consume-with-ack of the same count (the
 * transport under the task layer). On RabbitMQ nori beside a raw amqplib loop doing what the broker
 * allows a task (one confirmed publish, one consume + ack) and Celery solo and prefork. Celery runs on
 * smaller counts (--celery-count on Redis, --celery-amqp-count on RabbitMQ: it is far slower). Cases
 * run interleaved, after an untimed warm-up pass of every Node case; the ratio lines under the table
 * divide medians of the same run; each row gives its worker's RSS after the runs. Then the bytes one
 * task puts on the wire (message and stored result) beside Celery's for the same call.
 *   npm run bench:tasks [-- --count 20000 --celery-count 1000 --celery-amqp-count 300 --runs 3 --transports redis,rabbitmq --only nori --json out.json --cpu-prof dir]
 * `--only nori`: nori's rows and the transport's consume + ack only (no BullMQ, celery-node, Celery,
 * amqplib), e.g. to profile nori's worker. The brokers are REDIS_URL and AMQP_URL (see @nori/testing/brokers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import amqplib from 'amqplib';
import { Queue as BullQueue } from 'bullmq';
import { createClient as celeryNodeClient } from 'celery-node';
import { Redis } from 'ioredis';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import '@nori/compression';
import '@nori/msgpack';
import '@nori/redis';
import { App } from '@nori/tasks';
import { pythonSend, pythonStore } from '../../packages/tasks/test/python/celery.js';
import { celeryVersion, poolName, poolProcesses, startBenchCelery, type CeleryPool } from '../lib/celery-worker.js';
import { Bench, type BenchResult } from '../lib/harness.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { ResultKeys } from '../lib/result-keys.js';
import { treeRss } from '../lib/rss.js';
import { WorkerProcess } from '../lib/worker-process.js';
import { consumeAll, inWindows, numberArg, packageVersion, redisOptions, runName, stringArg, taskMessage } from '../lib/workload.js';
import { benchTasks } from '../workers/nori-tasks.js';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

const COUNT = numberArg('count', 20_000);
const CELERY_COUNT = numberArg('celery-count', 1_000);
/** Celery's solo worker slows to ~30 ms a task with rpc:// results once a backlog builds: fewer on RabbitMQ. */
const CELERY_AMQP_COUNT = numberArg('celery-amqp-count', 300);
const CONCURRENCY = 100;
/** nori's worker prefetches concurrency × 4 (prefetchMultiplier); the raw amqplib consumer takes as many. */
const PREFETCH = CONCURRENCY * 4;
const WINDOW = 1000;
const REDIS = redisUrl();
const RESULTS = redisUrl(1);
const AMQP = AMQP_URL;
const TRANSPORTS = (stringArg('transports') ?? 'redis,rabbitmq').split(',');
/** --cpu-prof <dir>: nori's workers write V8 CPU profiles there (nori-redis.cpuprofile, nori-amqp.cpuprofile); benchmarks/profile/top-frames.ts reads them. */
const CPU_PROF = stringArg('cpu-prof');
const ONLY_NORI = stringArg('only') === 'nori';

/** --celery-count 0 (or --only nori) leaves Celery out. */
const celery = CELERY_COUNT > 0 && !ONLY_NORI ? celeryVersion() : undefined;

const closers: Array<() => Promise<unknown>> = [];

const results = new Redis(RESULTS);
const broker = new Redis(REDIS);

/** Untimed first pass of each Node case, so the timed runs do not include JIT warm-up. */
const WARMUP = Math.min(COUNT, 2_000);

interface Side {
  /** Sends `count` tasks (with stored results or not) and resolves once the last is done. */
  run(stored: boolean, count?: number): Promise<number>;
  /** Untimed, before each run. */
  clean?(): Promise<void>;
  /** The worker's resident memory, bytes. */
  rss(): number;
}

/** Waits for a worker process's running count of finished tasks. */
function finishedCounter(worker: WorkerProcess): (count: number) => Promise<void> {
  let total = 0;
  return (count) => worker.until((total += count));
}

/** nori's App sends (add.delay in windows of 1,000); its worker (concurrency 100) runs in a process of its own. */
async function noriSide(broker: string, backend: string): Promise<Side> {
  const scheme = broker.split(':')[0] as string;
  const queue = runName(`tasks-${scheme}`);
  const app = new App({ broker, backend, defaultQueue: queue, ...OWN_NAMES });
  const { add, addQuiet } = benchTasks(app);
  const worker = await WorkerProcess.start(
    { kind: 'nori', broker, backend, queue, concurrency: CONCURRENCY, app: OWN_NAMES },
    CPU_PROF ? { cpuProfile: resolve(CPU_PROF, `nori-${scheme}.cpuprofile`) } : {},
  );
  const done = finishedCounter(worker);
  const keys = new ResultKeys(results);
  closers.push(async () => {
    await worker.stop();
    await keys.cleanAll();
    await leaveNothing(app, queue);
  });
  return {
    run: async (stored, count = COUNT) => {
      const sent = inWindows(count, WINDOW, async (i) => {
        const r = await (stored ? add : addQuiet).delay(i, 1);
        if (stored && backend !== 'rpc://') keys.track(r.id);
      });
      await Promise.all([sent, done(count)]);
      return count;
    },
    clean: () => keys.clean(),
    rss: () => worker.rss(),
  };
}

/**
 * BullMQ on the same Redis: addBulk in chunks of 1,000, a Worker with concurrency 100 in a process
 * of its own. With results, completed jobs keep their returnvalue (as nori keeps results); `clean`
 * removes them between runs, untimed.
 */
async function bullSide(): Promise<Side> {
  const name = runName('bull');
  const queue = new BullQueue(name, { connection: redisOptions(REDIS) });
  const worker = await WorkerProcess.start({ kind: 'bullmq', redis: REDIS, queue: name, concurrency: CONCURRENCY });
  const done = finishedCounter(worker);
  closers.push(async () => {
    await worker.stop();
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return {
    run: async (stored, count = COUNT) => {
      const finished = done(count);
      for (let i = 0; i < count; i += WINDOW) {
        await queue.addBulk(
          Array.from({ length: Math.min(WINDOW, count - i) }, (_, j) => ({ name: 'add', data: { x: i + j, y: 1 }, opts: { removeOnComplete: !stored } })),
        );
      }
      await finished;
      return count;
    },
    clean: async () => {
      await queue.clean(0, COUNT * 2, 'completed');
    },
    rss: () => worker.rss(),
  };
}

/**
 * celery-node's client sends (one LPUSH a task, fire and forget) and its worker runs them in a process
 * of its own. It stores every result (it has no ignore_result), so both groups store them.
 */
async function celeryNodeSide(): Promise<Side> {
  const queue = runName('celery-node');
  const client = celeryNodeClient(REDIS, RESULTS, queue);
  const worker = await WorkerProcess.start({ kind: 'celery-node', broker: REDIS, backend: RESULTS, queue });
  const done = finishedCounter(worker);
  const keys = new ResultKeys(results);
  await client.isReady();
  closers.push(async () => {
    await worker.stop();
    await keys.cleanAll();
    await broker.del(queue);
    await client.disconnect();
  });
  return {
    run: async (_stored, count = COUNT) => {
      const finished = done(count);
      for (let i = 0; i < count; i++) keys.track(client.sendTask('bench.add', [i, 1]).taskId);
      await finished;
      return count;
    },
    clean: () => keys.clean(),
    rss: () => worker.rss(),
  };
}

/**
 * What RabbitMQ allows a task, in raw amqplib: one confirmed publish (windows of 1,000 unconfirmed,
 * as nori's delay) and one consume + ack (a consumer with nori's prefetch, in a process of its own).
 */
async function amqplibSide(): Promise<Side> {
  const queue = runName('amqplib');
  const connection = await amqplib.connect(AMQP);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  const worker = await WorkerProcess.start({ kind: 'amqplib', url: AMQP, queue, prefetch: PREFETCH });
  const done = finishedCounter(worker);
  closers.push(async () => {
    await worker.stop();
    await channel.deleteQueue(queue);
    await connection.close();
  });
  const publish = (i: number): Promise<void> =>
    new Promise((resolve, reject) =>
      channel.publish(
        '',
        queue,
        Buffer.from(JSON.stringify({ ...taskMessage, id: i })),
        { contentType: 'application/json', deliveryMode: 2 },
        (err: unknown) => (err ? reject(err as Error) : resolve()),
      ),
    );
  return {
    run: async (_stored, count = COUNT) => {
      await Promise.all([inWindows(count, WINDOW, publish), done(count)]);
      return count;
    },
    rss: () => worker.rss(),
  };
}

/**
 * Python Celery's worker, solo or prefork -c 2, prefetch multiplier 4 (Celery's default); nori sends
 * the same protocol v2 messages Python would. Without stored results every task but the last few is
 * `interop.add_quiet` (ignore_result). A worker takes its tasks in queue order, so once the last
 * `processes` tasks have results, every task before them has been started (at most one, as trivial,
 * may still be running in another pool process).
 */
async function celerySide(broker: string, backend: string, count: number, pool: CeleryPool): Promise<Side> {
  const queue = runName(`celery-${pool}-${broker.split(':')[0] as string}`);
  const processes = poolProcesses(pool);
  const worker = await startBenchCelery(broker, backend, queue, pool);
  const app = new App({ broker, backend, defaultQueue: queue, ...OWN_NAMES });
  const keys = new ResultKeys(results);
  closers.push(async () => {
    await worker.stop();
    await keys.cleanAll();
    await leaveNothing(app, queue);
  });
  const send = async (name: string, i: number) => {
    const r = await app.sendTask(name, [i, 1]);
    if (backend !== 'rpc://' && name === 'interop.add') keys.track(r.id);
    return r;
  };
  return {
    run: async (stored) => {
      await inWindows(count - processes, WINDOW, (i) => send(stored ? 'interop.add' : 'interop.add_quiet', i));
      const last = await Promise.all(Array.from({ length: processes }, (_, i) => send('interop.add', i)));
      await Promise.race([Promise.all(last.map((r) => r.get({ timeout: 600_000 }))), worker.died]);
      return count;
    },
    clean: () => keys.clean(),
    rss: () => treeRss(worker.process.pid as number),
  };
}

/** nori's consumer on a queue loaded with COUNT messages, prefetch 1,000, concurrency 100: bench:redis's consume + ack. */
async function transportFloor(): Promise<{ load: () => Promise<void>; consume: () => Promise<number> }> {
  const conn = new Connection(REDIS);
  const queue = new Queue(runName('transport'));
  await conn.declare(queue);
  const producer = conn.producer();
  closers.push(async () => {
    await conn.deleteQueue(queue);
    await conn.close();
  });
  return {
    load: async () => {
      await conn.purge(queue);
      await inWindows(COUNT, WINDOW, (i) => producer.publish({ ...taskMessage, id: i }, { routingKey: queue.name }));
    },
    consume: () => consumeAll(conn, queue, COUNT, { prefetch: 1000, concurrency: CONCURRENCY }),
  };
}

const onRedis = TRANSPORTS.includes('redis');
const onAmqp = TRANSPORTS.includes('rabbitmq');

const bench = new Bench('tasks end to end', {
  count: COUNT,
  celeryCount: celery ? { redis: CELERY_COUNT, rabbitmq: CELERY_AMQP_COUNT } : 'no Celery on /usr/bin/python3',
  concurrency: CONCURRENCY,
  task: 'add(i, 1), JSON',
  workers: 'each in a process of its own; RSS summed over the worker and its pool processes',
  bullmq: packageVersion('bullmq'),
  'celery-node': packageVersion('celery-node'),
  amqplib: packageVersion('amqplib'),
  celery: celery ?? 'absent',
  celeryPools: 'solo; prefork -c 2',
  warmup: `${WARMUP} tasks per Node case, untimed`,
  bullmqResults: 'removeOnComplete without results; returnvalue kept with results (completed jobs cleaned between runs, untimed)',
});

const bull = onRedis && !ONLY_NORI ? await bullSide() : undefined;
const celeryNode = onRedis && !ONLY_NORI ? await celeryNodeSide() : undefined;
const noriRedis = onRedis ? await noriSide(REDIS, RESULTS) : undefined;
const floor = onRedis ? await transportFloor() : undefined;
const raw = onAmqp && !ONLY_NORI ? await amqplibSide() : undefined;
const noriAmqp = onAmqp ? await noriSide(AMQP, 'rpc://') : undefined;
const celeries: Array<{ transport: 'redis' | 'rabbitmq'; pool: CeleryPool; side: Side }> = [];
for (const pool of ['solo', 'prefork'] as const) {
  if (celery && onRedis) celeries.push({ transport: 'redis', pool, side: await celerySide(REDIS, RESULTS, CELERY_COUNT, pool) });
  if (celery && onAmqp) celeries.push({ transport: 'rabbitmq', pool, side: await celerySide(AMQP, 'rpc://', CELERY_AMQP_COUNT, pool) });
}

for (const stored of [false, true])
  for (const side of [bull, celeryNode, noriRedis, raw, noriAmqp]) {
    await side?.run(stored, WARMUP);
    await side?.clean?.();
  }

const celeryName = (pool: CeleryPool): string => `Celery ${celery ?? ''} ${poolName(pool)}`;
const row = (group: string, name: string, side: Side, stored: boolean, baseline = false): void =>
  bench.add({ group, name, baseline, unit: 'tasks/s', ...(side.clean && { setup: side.clean }), run: () => side.run(stored), memory: side.rss });

if (noriRedis)
  for (const stored of [false, true]) {
    const group = `redis, ${stored ? 'results stored' : 'no results'}`;
    if (bull) row(group, `BullMQ addBulk + Worker${stored ? ' (returnvalue kept)' : ' (removeOnComplete)'}`, bull, stored, true);
    if (celeryNode) row(group, `celery-node client + worker${stored ? '' : ' (stores results: no ignore_result)'}`, celeryNode, stored);
    row(group, `nori App + worker${stored ? ', redis backend' : ''}`, noriRedis, stored);
    for (const c of celeries.filter((x) => x.transport === 'redis')) row(group, `${celeryName(c.pool)}${stored ? ', redis backend' : ''}`, c.side, stored);
  }
if (floor)
  bench.add({
    group: 'redis, transport',
    name: 'nori consumer, consume + ack (bench:redis)',
    baseline: true,
    unit: 'msg/s',
    setup: floor.load,
    run: floor.consume,
  });
if (noriAmqp)
  for (const stored of [false, true]) {
    const group = `rabbitmq, ${stored ? 'results over rpc://' : 'no results'}`;
    if (raw) row(group, 'amqplib confirmed publish + consume/ack (no result)', raw, false, true);
    row(group, 'nori App + worker', noriAmqp, stored);
    for (const c of celeries.filter((x) => x.transport === 'rabbitmq')) row(group, celeryName(c.pool), c.side, stored);
  }

const measured = await bench.run();

/** The target for nori's median over another case's, where it states one. */
function target(nori: BenchResult, other: BenchResult): number | undefined {
  const stored = !nori.group.endsWith('no results');
  if (other.name.startsWith('BullMQ')) return stored ? 2.5 : 3;
  if (other.name.startsWith('amqplib')) return stored ? undefined : 0.9;
  if (other.name.includes('solo')) return 10;
  if (other.group === 'redis, transport') return stored ? 0.4 : 0.5;
  return undefined;
}

const transport = measured.find((x) => x.group === 'redis, transport');
console.log('');
for (const nori of measured.filter((x) => x.name.startsWith('nori App'))) {
  const others = measured.filter((x) => x.group === nori.group && !x.name.startsWith('nori'));
  if (transport && nori.group.startsWith('redis')) others.push(transport);
  for (const other of others) {
    const ratio = nori.median / other.median;
    const goal = target(nori, other);
    const verdict = goal === undefined ? '' : ` (target >= ${goal}x: ${ratio >= goal ? 'met' : 'missed'})`;
    console.log(`ratio ${nori.group}: nori / ${other.name.split(' (')[0] as string} = ${ratio.toFixed(2)}x${verdict}`);
  }
}

// ---- bytes on the wire per task, on Redis: the message as stored in the queue list, the result as stored under its key

interface Sizes {
  message: number;
  result: number;
}

/** The one message in a queue: in its plain list or in one of kombu's priority buckets. */
async function queuedMessage(queue: string): Promise<string> {
  for (const key of [queue, ...[3, 6, 9].map((step) => `${queue}\x06\x16${step}`)]) {
    const message = await broker.lindex(key, 0);
    if (message !== null) return message;
  }
  throw new Error(`no message in queue ${queue}`);
}

async function noriBytes(serializer: string, compression: string | undefined): Promise<Sizes> {
  const queue = runName('bytes');
  const app = new App({ broker: REDIS, backend: RESULTS, defaultQueue: queue, serializer, ...OWN_NAMES, ...(compression && { compression }) });
  const r = await app.sendTask('interop.add', [2, 3]);
  const message = await queuedMessage(queue);
  await app.backend.storeResult(r.id, 'SUCCESS', 5, { origin: { taskName: 'interop.add' } });
  const result = (await results.strlen(`celery-task-meta-${r.id}`)) || 0;
  await r.forget();
  await leaveNothing(app, queue);
  return { message: Buffer.byteLength(message), result };
}

async function celeryBytes(serializer: string, compression: string | undefined): Promise<Sizes> {
  const queue = runName('bytes-py');
  const env = { broker: REDIS, backend: RESULTS, queue };
  const [id] = await pythonSend(env, [{ name: 'interop.add', args: [2, 3], options: { queue, serializer, ...(compression && { compression }) } }]);
  const message = await queuedMessage(queue);
  await pythonStore(env, { id: id as string, state: 'SUCCESS', result: 5 });
  const result = (await results.strlen(`celery-task-meta-${id as string}`)) || 0;
  await results.del(`celery-task-meta-${id as string}`);
  // The queue, and the exchange of its name kombu declared for it (its binding set on Redis).
  const conn = new Connection(REDIS);
  await conn.deleteQueue(queue);
  await conn.deleteExchange(queue);
  await conn.close();
  return { message: Buffer.byteLength(message), result };
}

const wire: Array<{ codec: string; side: string; message: number; result: number }> = [];
for (const [codec, serializer, compression] of [
  ['json', 'json', undefined],
  ['msgpack+zlib', 'msgpack', 'zlib'],
] as const) {
  wire.push({ codec, side: 'nori', ...(await noriBytes(serializer, compression)) });
  if (celery) wire.push({ codec, side: `Celery ${celery}`, ...(await celeryBytes(serializer, compression)) });
}
console.log('\nbytes per task on Redis (add(2, 3): the message as stored in the queue list; the result key, JSON)');
console.log('| codec | sender | message bytes | result bytes |');
console.log('|---|---|---|---|');
for (const w of wire) console.log(`| ${w.codec} | ${w.side} | ${w.message} | ${w.result} |`);

const json = stringArg('json');
if (json) writeFileSync(json, `${JSON.stringify({ ...(JSON.parse(readFileSync(json, 'utf8')) as object), wireBytes: wire }, null, 2)}\n`);

for (const close of closers.reverse()) await close();
results.disconnect();
broker.disconnect();
