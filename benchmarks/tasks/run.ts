/**
 * Task layer end to end: publish N trivial tasks (add(i, 1)), a worker with concurrency 100 runs
 * them, timed until the last is done; with and without stored results, on Redis beside BullMQ
 * (addBulk + Worker, concurrency 100) and on RabbitMQ; beside Python Celery 5.2's solo worker when
 * /usr/bin/python3 has Celery (on smaller counts, --celery-count on Redis and --celery-amqp-count
 * on RabbitMQ: it is far slower). Cases run interleaved, after an untimed warm-up pass of the nori and
 * BullMQ cases; the ratio lines under the table divide medians of the same run. Then the bytes one task puts on the wire
 * (message and stored result) beside Celery's for the same call, with JSON and msgpack+zlib.
 *   npm run bench:tasks [-- --count 20000 --celery-count 1000 --celery-amqp-count 300 --runs 3 --transports redis,rabbitmq --json out.json]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import { Connection } from '@nori/core';
import '@nori/amqp';
import '@nori/compression';
import '@nori/msgpack';
import '@nori/redis';
import { App } from '@nori/tasks';
import { CELERY_NAMES, deleteCeleryNames } from '../../packages/tasks/test/celery-names.js';
import { pythonSend, pythonStore, startCeleryWorker, type CeleryWorker } from '../../packages/tasks/test/python/celery.js';
import { PYTHON } from '../../packages/tasks/test/python/python-process.js';
import { Bench } from '../lib/harness.js';
import { inWindows, numberArg, packageVersion, redisOptions, runName, stringArg } from '../lib/workload.js';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

const COUNT = numberArg('count', 20_000);
const CELERY_COUNT = numberArg('celery-count', 1_000);
/** Celery's solo worker slows to ~30 ms a task with rpc:// results once a backlog builds: fewer on RabbitMQ. */
const CELERY_AMQP_COUNT = numberArg('celery-amqp-count', 300);
const CONCURRENCY = 100;
const WINDOW = 1000;
const REDIS = redisUrl();
const RESULTS = redisUrl(1);
const AMQP = AMQP_URL;
const TRANSPORTS = (stringArg('transports') ?? 'redis,rabbitmq').split(',');

function celeryVersion(): string | undefined {
  try {
    return execFileSync(PYTHON, ['-c', 'import celery; print(celery.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
/** --celery-count 0 leaves Celery out. */
const celery = CELERY_COUNT > 0 ? celeryVersion() : undefined;

/** Counts completions and resolves once `target` have been seen since `expect()`. */
class Countdown {
  #left = 0;
  #done: (() => void) | undefined;
  expect(n: number): Promise<void> {
    this.#left = n;
    return new Promise((resolve) => (this.#done = resolve));
  }
  tick(): void {
    if (--this.#left === 0) this.#done?.();
  }
}

const closers: Array<() => Promise<unknown>> = [];

/**
 * This run's own remote-control and event exchanges (nori's Apps and, through the environment,
 * the Celery worker), and results kept 10 minutes instead of a day: the run leaves nothing behind.
 */
const OWN_NAMES = { ...CELERY_NAMES, resultExpires: 600_000 };

/** Deletes a side's queue, the exchange of its name (Celery's), and the run's control and event exchanges; closes the app. */
async function leaveNothing(app: App, queue: string): Promise<void> {
  await app.connection.deleteQueue(queue).catch(() => undefined);
  await app.connection.deleteExchange(queue).catch(() => undefined);
  await deleteCeleryNames(app.connection);
  await app.close();
}

/** Untimed first pass of each nori and BullMQ case, so the timed runs do not include JIT warm-up. */
const WARMUP = Math.min(COUNT, 2_000);

type Side = (stored: boolean, count?: number) => Promise<number>;

/** A nori app + worker (concurrency 100) on a fresh queue; `run(stored)` sends COUNT and waits for the last. */
async function noriSide(broker: string, backend: string): Promise<Side> {
  const queue = runName(`tasks-${broker.split(':')[0] as string}`);
  const app = new App({ broker, backend, defaultQueue: queue, ...OWN_NAMES });
  const add = app.task('bench.add', (x: number, y: number) => x + y);
  const quiet = app.task('bench.add_quiet', (x: number, y: number) => x + y, { ignoreResult: true });
  const worker = app.worker({ concurrency: CONCURRENCY });
  const countdown = new Countdown();
  worker.on('task-succeeded', () => countdown.tick());
  await worker.start();
  closers.push(async () => {
    await worker.stop();
    await leaveNothing(app, queue);
  });
  return async (stored, count = COUNT) => {
    const finished = countdown.expect(count);
    const task = stored ? add : quiet;
    await inWindows(count, WINDOW, (i) => task.delay(i, 1));
    await finished;
    return count;
  };
}

/**
 * BullMQ on the same Redis: addBulk in chunks of WINDOW, a Worker with concurrency 100. With
 * results, completed jobs keep their returnvalue (as nori keeps results); `clean` removes them
 * between runs, untimed.
 */
async function bullSide(): Promise<{ run: Side; clean: () => Promise<void> }> {
  const connection = redisOptions(REDIS);
  const name = runName('bull');
  const queue = new BullQueue(name, { connection });
  const countdown = new Countdown();
  const worker = new BullWorker(name, (job) => Promise.resolve((job.data as { x: number; y: number }).x + (job.data as { x: number; y: number }).y), {
    connection,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', () => countdown.tick());
  await worker.waitUntilReady();
  closers.push(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return {
    run: async (stored, count = COUNT) => {
      const finished = countdown.expect(count);
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
  };
}

/**
 * Python Celery's solo worker; nori sends (the same protocol v2 messages Python would). The solo
 * worker runs its queue in order, so the last task's result marks the end; without stored
 * results every task but that last one is `interop.add_quiet` (ignore_result).
 */
async function celerySide(broker: string, backend: string, count: number): Promise<Side> {
  const queue = runName(`celery-${broker.split(':')[0] as string}`);
  const worker: CeleryWorker = await startCeleryWorker({ broker, backend, queue }, { extraArgs: ['--prefetch-multiplier', '4'] });
  const app = new App({ broker, backend, defaultQueue: queue, ...OWN_NAMES });
  closers.push(async () => {
    await worker.stop();
    await leaveNothing(app, queue);
  });
  return async (stored) => {
    await inWindows(count - 1, WINDOW, (i) => app.sendTask(stored ? 'interop.add' : 'interop.add_quiet', [i, 1]));
    const last = await app.sendTask('interop.add', [0, 1]);
    await Promise.race([last.get({ timeout: 600_000 }), worker.died]);
    await last.forget();
    return count;
  };
}

const bench = new Bench('tasks end to end', {
  count: COUNT,
  celeryCount: celery ? { redis: CELERY_COUNT, rabbitmq: CELERY_AMQP_COUNT } : 'no Celery on /usr/bin/python3',
  concurrency: CONCURRENCY,
  task: 'add(i, 1), JSON',
  bullmq: packageVersion('bullmq'),
  celery: celery ?? 'absent',
  celeryPool: 'solo',
  warmup: `${WARMUP} tasks per nori and BullMQ case, untimed`,
  bullmqResults: 'removeOnComplete without results; returnvalue kept with results (completed jobs cleaned between runs, untimed)',
});

const onRedis = TRANSPORTS.includes('redis');
const onAmqp = TRANSPORTS.includes('rabbitmq');
const bull = onRedis ? await bullSide() : undefined;
const noriRedis = onRedis ? await noriSide(REDIS, RESULTS) : undefined;
const noriAmqp = onAmqp ? await noriSide(AMQP, 'rpc://') : undefined;
const celeryRedis = celery && onRedis ? await celerySide(REDIS, RESULTS, CELERY_COUNT) : undefined;
const celeryAmqp = celery && onAmqp ? await celerySide(AMQP, 'rpc://', CELERY_AMQP_COUNT) : undefined;

for (const stored of [false, true]) {
  if (bull) await bull.run(stored, WARMUP);
  if (noriRedis) await noriRedis(stored, WARMUP);
  if (noriAmqp) await noriAmqp(stored, WARMUP);
}
await bull?.clean();

if (bull && noriRedis)
  for (const stored of [false, true]) {
    const group = `redis, ${stored ? 'results stored' : 'no results'}`;
    bench.add({
      group,
      name: `BullMQ addBulk + Worker${stored ? ' (returnvalue kept)' : ' (removeOnComplete)'}`,
      baseline: true,
      unit: 'tasks/s',
      setup: bull.clean,
      run: () => bull.run(stored),
    });
    bench.add({ group, name: `nori App + worker${stored ? ', redis backend' : ''}`, unit: 'tasks/s', run: () => noriRedis(stored) });
    if (celeryRedis)
      bench.add({ group, name: `Celery ${celery} solo worker${stored ? ', redis backend' : ''}`, unit: 'tasks/s', run: () => celeryRedis(stored) });
  }
if (noriAmqp)
  for (const stored of [false, true]) {
    const group = `rabbitmq, ${stored ? 'results over rpc://' : 'no results'}`;
    if (celeryAmqp) bench.add({ group, name: `Celery ${celery} solo worker`, baseline: true, unit: 'tasks/s', run: () => celeryAmqp(stored) });
    bench.add({ group, name: 'nori App + worker', unit: 'tasks/s', run: () => noriAmqp(stored) });
  }

const results = await bench.run();

/** nori's median over another case's, from the same run, against the target. */
console.log('');
for (const r of results.filter((x) => x.name.startsWith('nori'))) {
  for (const other of results.filter((x) => x.group === r.group && !x.name.startsWith('nori'))) {
    const target = other.name.startsWith('BullMQ') ? 1.5 : 10;
    const ratio = r.median / other.median;
    console.log(
      `ratio ${r.group}: nori / ${other.name.split(' (')[0] as string} = ${ratio.toFixed(2)}x (target >= ${target}x: ${ratio >= target ? 'met' : 'missed'})`,
    );
  }
}

// ---- bytes on the wire per task, on Redis: the message as stored in the queue list, the result as stored under its key

interface Sizes {
  message: number;
  result: number;
}

const redis = new Redis(RESULTS);
const broker = new Redis(REDIS);

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
  await app.backend.storeResult(r.id, 'SUCCESS', 5, { request: { taskName: 'interop.add' } });
  const result = (await redis.strlen(`celery-task-meta-${r.id}`)) || 0;
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
  const result = (await redis.strlen(`celery-task-meta-${id as string}`)) || 0;
  await redis.del(`celery-task-meta-${id as string}`);
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
redis.disconnect();
broker.disconnect();
