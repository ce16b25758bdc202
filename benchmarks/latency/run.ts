/**
 * Latency at a fixed rate: tasks sent at 1,000/s and 5,000/s for 10 s each, one at a time on a
 * schedule (not in bursts), and for each task the time from its scheduled send to the moment its
 * worker started it (send → start) and to the moment the sender had its result (send → result).
 * p50, p99 and max for nori, BullMQ and Python Celery 5.2 (solo, prefork -c 2) on Redis, nori and
 * Celery on RabbitMQ; every worker in a process of its own. Times are taken on CLOCK_MONOTONIC,
 * which the sender and every worker share, and from the scheduled send, so a sender that falls
 * behind shows as latency instead of hiding it. A task not done `--drain` seconds after the last
 * send counts as unfinished, above every finished one.
 *   npm run bench:latency [-- --rates 1000,5000 --seconds 10 --drain 30 --runs 1 --transports redis,rabbitmq --only nori,bullmq --json out.json]
 * `--only`: the kinds of side to run (nori, bullmq, celery; all by default).
 */
import { writeFileSync } from 'node:fs';
import { Queue as BullQueue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { sleep } from '@nori/core';
import '@nori/amqp';
import '@nori/redis';
import { App } from '@nori/tasks';
import { celeryVersion, poolName, startBenchCelery, type CeleryPool } from '../lib/celery-worker.js';
import { median, printTable, progress, runHeader } from '../lib/harness.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { ResultKeys } from '../lib/result-keys.js';
import { WorkerProcess } from '../lib/worker-process.js';
import { monotonicMs, numberArg, packageVersion, redisOptions, runName, stringArg } from '../lib/workload.js';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

const RATES = (stringArg('rates') ?? '1000,5000').split(',').map(Number);
const SECONDS = numberArg('seconds', 10);
const DRAIN_MS = numberArg('drain', 30) * 1000;
const RUNS = numberArg('runs', 1);
const TRANSPORTS = (stringArg('transports') ?? 'redis,rabbitmq').split(',');
const ONLY = (stringArg('only') ?? 'nori,bullmq,celery').split(',');
const CONCURRENCY = 100;
const REDIS = redisUrl();
const RESULTS = redisUrl(1);
/** A result wait outlasts its case (sends, then the drain): a task not done by the drain's end counts as unfinished, not failed. */
const GET_TIMEOUT = 2 * (SECONDS * 1000 + DRAIN_MS);

type Transport = 'redis' | 'rabbitmq';

interface LatencySide {
  name: string;
  transport: Transport;
  /** Sends one bench.stamp task; resolves, once the sender has its result, to when its worker started it (monotonic ms). */
  call(): Promise<number>;
  /** Untimed, after each case: what is left in the queue is dropped, stored results deleted. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A worker process: stopped at the end, and a case fails at once if it dies. */
interface Worker {
  readonly died: Promise<never>;
  stop(): Promise<void>;
}

const results = new Redis(RESULTS);
const celery = ONLY.includes('celery') ? celeryVersion() : undefined;

/**
 * A side whose sender is a nori App: `bench.stamp` sent by name, its result awaited with `get()`,
 * whichever worker runs it (nori's, or Celery's on the same protocol).
 */
function appSide(name: string, transport: Transport, broker: string, backend: string, queue: string, worker: Worker): LatencySide {
  const app = new App({ broker, backend, defaultQueue: queue, ...OWN_NAMES });
  const keys = backend === 'rpc://' ? undefined : new ResultKeys(results);
  return {
    name,
    transport,
    call: async () => {
      const r = await app.sendTask('bench.stamp', []);
      keys?.track(r.id);
      return Promise.race([r.get({ timeout: GET_TIMEOUT }) as Promise<number>, worker.died]);
    },
    reset: async () => {
      await app.connection.purge(queue);
      await keys?.clean();
    },
    close: async () => {
      await worker.stop();
      await keys?.cleanAll();
      await leaveNothing(app, queue);
    },
  };
}

/** nori's worker (concurrency 100) in a process of its own. */
async function noriSide(transport: Transport, broker: string, backend: string): Promise<LatencySide> {
  const queue = runName(`latency-nori-${transport}`);
  const worker = await WorkerProcess.start({ kind: 'nori', broker, backend, queue, concurrency: CONCURRENCY, app: OWN_NAMES });
  return appSide('nori App + worker', transport, broker, backend, queue, worker);
}

/** Python Celery's worker, solo or prefork -c 2. */
async function celerySide(transport: Transport, broker: string, backend: string, pool: CeleryPool): Promise<LatencySide> {
  const queue = runName(`latency-celery-${pool}-${transport}`);
  const worker = await startBenchCelery(broker, backend, queue, pool);
  return appSide(`Celery ${celery ?? ''} ${poolName(pool)}`, transport, broker, backend, queue, worker);
}

/** BullMQ: `queue.add` per task, completion read from QueueEvents (as `job.waitUntilFinished` does); a Worker (concurrency 100) in a process of its own. */
async function bullSide(): Promise<LatencySide> {
  const name = runName('latency-bull');
  const connection = redisOptions(REDIS);
  const queue = new BullQueue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const waiting = new Map<string, (started: number) => void>();
  events.on('completed', ({ jobId, returnvalue }) => {
    waiting.get(jobId)?.(Number(returnvalue));
    waiting.delete(jobId);
  });
  const worker = await WorkerProcess.start({ kind: 'bullmq', redis: REDIS, queue: name, concurrency: CONCURRENCY });
  let next = 0;
  return {
    name: 'BullMQ add + Worker',
    transport: 'redis',
    call: async () => {
      // Our own id, registered before the add, so a completion cannot come before its waiter.
      const jobId = `j${next++}`;
      const started = new Promise<number>((resolve) => waiting.set(jobId, resolve));
      await queue.add('stamp', {}, { jobId, removeOnComplete: true });
      return started;
    },
    reset: async () => {
      await queue.drain();
      waiting.clear();
    },
    close: async () => {
      await worker.stop();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

/** Latencies of one case, ms after each task's scheduled send; an unfinished task is Infinity. */
interface Case {
  start: number[];
  result: number[];
  sent: number;
  unfinished: number;
  failed: number;
  /** How far the sender fell behind its schedule, at most. */
  behind: number;
}

/** Sends `rate` tasks a second for `seconds` on a schedule, waits up to DRAIN_MS for the last results, then resets the side. */
async function measure(side: LatencySide, rate: number, seconds: number): Promise<Case> {
  const total = Math.round(rate * seconds);
  const start: number[] = [];
  const result: number[] = [];
  let failed = 0;
  let behind = 0;
  const calls: Array<Promise<void>> = [];
  const t0 = monotonicMs();
  for (let i = 0; i < total;) {
    const now = monotonicMs();
    for (; i < total && t0 + (i * 1000) / rate <= now; i++) {
      const scheduled = t0 + (i * 1000) / rate;
      behind = Math.max(behind, now - scheduled);
      calls.push(
        side.call().then(
          (started) => {
            start.push(started - scheduled);
            result.push(monotonicMs() - scheduled);
          },
          () => void failed++,
        ),
      );
    }
    await sleep(1);
  }
  const drain = new AbortController();
  await Promise.race([Promise.all(calls), sleep(DRAIN_MS, drain.signal).catch(() => undefined)]);
  drain.abort();
  const unfinished = total - result.length - failed;
  const outcome = {
    start: [...start, ...Array<number>(unfinished).fill(Infinity)].sort((a, b) => a - b),
    result: [...result, ...Array<number>(unfinished).fill(Infinity)].sort((a, b) => a - b),
    sent: total,
    unfinished,
    failed,
    behind,
  };
  await side.reset();
  return outcome;
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

interface Stats {
  startP50: number;
  startP99: number;
  startMax: number;
  resultP50: number;
  resultP99: number;
  resultMax: number;
  unfinished: number;
  failed: number;
  behind: number;
}

function stats(c: Case): Stats {
  return {
    startP50: percentile(c.start, 50),
    startP99: percentile(c.start, 99),
    startMax: c.start.at(-1) ?? NaN,
    resultP50: percentile(c.result, 50),
    resultP99: percentile(c.result, 99),
    resultMax: c.result.at(-1) ?? NaN,
    unfinished: c.unfinished,
    failed: c.failed,
    behind: c.behind,
  };
}

const header = runHeader('task latency at a fixed rate', {
  rates: RATES,
  secondsPerRate: SECONDS,
  drainSeconds: DRAIN_MS / 1000,
  runs: RUNS,
  task: 'stamp(): returns when it started (CLOCK_MONOTONIC); results stored (Redis backend db 1, rpc:// on RabbitMQ)',
  workers: `each in a process of its own; nori and BullMQ concurrency ${CONCURRENCY}, Celery solo and prefork -c 2, prefetch multiplier 4`,
  bullmq: packageVersion('bullmq'),
  celery: celery ?? 'absent',
});

const sides: LatencySide[] = [];
if (TRANSPORTS.includes('redis')) {
  if (ONLY.includes('nori')) sides.push(await noriSide('redis', REDIS, RESULTS));
  if (ONLY.includes('bullmq')) sides.push(await bullSide());
  if (celery) for (const pool of ['solo', 'prefork'] as const) sides.push(await celerySide('redis', REDIS, RESULTS, pool));
}
if (TRANSPORTS.includes('rabbitmq')) {
  if (ONLY.includes('nori')) sides.push(await noriSide('rabbitmq', AMQP_URL, 'rpc://'));
  if (celery) for (const pool of ['solo', 'prefork'] as const) sides.push(await celerySide('rabbitmq', AMQP_URL, 'rpc://', pool));
}

// Untimed warm-up: connections, JIT, Celery's first tasks.
for (const side of sides) await measure(side, Math.min(...RATES), 0.5);

const runs = new Map<string, Stats[]>();
const key = (side: LatencySide, rate: number): string => `${side.transport}\t${rate}\t${side.name}`;
const total = RUNS * RATES.length * sides.length;
let done = 0;
for (let r = 0; r < RUNS; r++)
  for (const rate of RATES)
    for (const side of sides) {
      progress(done++, total, `${side.transport} ${rate}/s: ${side.name}`);
      const k = key(side, rate);
      runs.set(k, [...(runs.get(k) ?? []), stats(await measure(side, rate, SECONDS))]);
    }
progress(done, total, 'done');

/** Each statistic's median over the runs. */
const summary = [...runs].map(([k, list]) => {
  const [transport, rate, name] = k.split('\t') as [Transport, string, string];
  const of = (f: keyof Stats): number => median(list.map((s) => s[f]));
  const s: Stats = {
    startP50: of('startP50'),
    startP99: of('startP99'),
    startMax: of('startMax'),
    resultP50: of('resultP50'),
    resultP99: of('resultP99'),
    resultMax: of('resultMax'),
    unfinished: of('unfinished'),
    failed: of('failed'),
    behind: of('behind'),
  };
  return { transport, rate: Number(rate), name, ...s, runs: list };
});

const ms = (n: number): string => (Number.isFinite(n) ? (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3)) : 'unfinished');
printTable(
  ['transport', 'rate', 'case', 'send→start p50 ms', 'p99', 'max', 'send→result p50 ms', 'p99', 'max', 'unfinished', 'failed', 'sender behind, max ms'],
  summary.map((s) => [
    s.transport,
    `${s.rate.toLocaleString('en-US')}/s`,
    s.name,
    ms(s.startP50),
    ms(s.startP99),
    ms(s.startMax),
    ms(s.resultP50),
    ms(s.resultP99),
    ms(s.resultMax),
    String(s.unfinished),
    String(s.failed),
    ms(s.behind),
  ]),
);

// The targets: nori's p50 and p99 below every anchor's at each rate; its p99 at 1,000/s under 5 ms on Redis.
console.log('');
for (const nori of summary.filter((s) => s.name.startsWith('nori'))) {
  const anchors = summary.filter((s) => s.transport === nori.transport && s.rate === nori.rate && s !== nori);
  for (const [measure, p50, p99] of [
    ['send→start', 'startP50', 'startP99'],
    ['send→result', 'resultP50', 'resultP99'],
  ] as const) {
    for (const a of anchors) {
      const below = nori[p50] < a[p50] && nori[p99] < a[p99];
      console.log(
        `latency ${nori.transport} ${nori.rate}/s ${measure}: nori p50/p99 ${ms(nori[p50])}/${ms(nori[p99])} ms, ${a.name} ${ms(a[p50])}/${ms(a[p99])} ms (target below: ${below ? 'met' : 'missed'})`,
      );
    }
    if (nori.transport === 'redis' && nori.rate === 1000)
      console.log(`latency redis 1000/s ${measure}: nori p99 ${ms(nori[p99])} ms (target < 5 ms: ${nori[p99] < 5 ? 'met' : 'missed'})`);
  }
}

const json = stringArg('json');
if (json) writeFileSync(json, `${JSON.stringify({ ...header, results: summary }, null, 2)}\n`);

for (const side of sides) await side.close();
results.disconnect();
