/**
 * Where a task's CPU goes on RabbitMQ, by process: the sender (this process), the worker (a process
 * of its own) and the broker (RabbitMQ's beam.smp, read from /proc: the machine's only one), in CPU
 * µs per task, for three cases run interleaved: bench:tasks' amqplib baseline (one confirmed publish
 * of a small JSON body without headers + consume/ack), nori's App + worker (bench.add_quiet), and
 * the same raw amqplib loop sending what a Celery task message carries (protocol v2's 16 headers,
 * content encoding, correlation id, reply-to, a v2 body). CPU time moves less with the machine's
 * load than tasks/s, and the third case separates what the message costs RabbitMQ and amqplib from
 * what nori adds. Linux only.
 *   AMQP_URL=... node --conditions=nori-src --import tsx benchmarks/profile/amqp-cpu-split.ts [--count 20000 --runs 3]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import amqplib from 'amqplib';
import '@nori/amqp';
import { App } from '@nori/tasks';
import { AMQP_URL } from '@nori/testing/brokers';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { WorkerProcess } from '../lib/worker-process.js';
import { inWindows, numberArg, runName, taskMessage } from '../lib/workload.js';
import { benchTasks } from '../workers/nori-tasks.js';

const COUNT = numberArg('count', 20_000);
const RUNS = numberArg('runs', 3);
const WINDOW = 1000;
const CONCURRENCY = 100;

/** utime + stime of a process, ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const ownMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const beam = Number((execFileSync('pgrep', ['-f', 'beam.smp']).toString().trim().split('\n')[0] as string).trim());

/** What a Celery 5.2 client puts on a task message besides its body (bench.add_quiet(i, 1)): built per message, as a client does. */
const celeryHeaders = (id: string) => ({
  lang: 'py',
  task: 'bench.add_quiet',
  id,
  shadow: null,
  eta: null,
  expires: null,
  group: null,
  group_index: null,
  retries: 0,
  timelimit: [null, null],
  root_id: id,
  parent_id: null,
  argsrepr: '(1, 1)',
  kwargsrepr: '{}',
  origin: 'gen1@vm',
  ignore_result: true,
});

const queue = runName('cpu-split-amqplib');
const connection = await amqplib.connect(AMQP_URL);
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, { durable: true });
const raw = await WorkerProcess.start({ kind: 'amqplib', url: AMQP_URL, queue, prefetch: CONCURRENCY * 4 });
const confirmed = (body: Buffer, options: amqplib.Options.Publish): Promise<void> =>
  new Promise((resolve, reject) => channel.publish('', queue, body, options, (err: unknown) => (err ? reject(err as Error) : resolve())));
const baseline = (i: number): Promise<void> =>
  confirmed(Buffer.from(JSON.stringify({ ...taskMessage, id: i })), { contentType: 'application/json', deliveryMode: 2 });
const celeryShaped = (i: number): Promise<void> => {
  const id = randomUUID();
  return confirmed(Buffer.from(JSON.stringify([[i, 1], {}, { callbacks: null, errbacks: null, chain: null, chord: null }])), {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: 2,
    headers: celeryHeaders(id),
    correlationId: id,
    replyTo: id,
  });
};

const noriQueue = runName('cpu-split-nori');
const app = new App({ broker: AMQP_URL, backend: 'rpc://', defaultQueue: noriQueue, ...OWN_NAMES });
const { addQuiet } = benchTasks(app);
const nori = await WorkerProcess.start({ kind: 'nori', broker: AMQP_URL, backend: 'rpc://', queue: noriQueue, concurrency: CONCURRENCY, app: OWN_NAMES });

const finished = new Map<WorkerProcess, number>();
const run = (worker: WorkerProcess, send: (i: number) => Promise<unknown>, count: number): Promise<unknown> => {
  const total = (finished.get(worker) ?? 0) + count;
  finished.set(worker, total);
  return Promise.all([inWindows(count, WINDOW, send), worker.until(total)]);
};

const cases: Array<[string, WorkerProcess, (i: number) => Promise<unknown>]> = [
  ['amqplib, small JSON body (bench:tasks baseline)', raw, baseline],
  ['nori App + worker', nori, (i) => addQuiet.delay(i, 1)],
  ["amqplib, a Celery task message's headers and properties", raw, celeryShaped],
];
for (const [, worker, send] of cases) await run(worker, send, Math.min(COUNT, 2_000));

console.log(`${COUNT} tasks a run, concurrency ${CONCURRENCY}, prefetch ${CONCURRENCY * 4}; CPU µs per task`);
console.log('| run | case | tasks/s | sender | worker | RabbitMQ | all |');
console.log('|---|---|---|---|---|---|---|');
const us = (ms: number): string => ((ms * 1000) / COUNT).toFixed(1);
for (let r = 1; r <= RUNS; r++)
  for (const [name, worker, send] of cases) {
    const before = [performance.now(), ownMs(), cpuMs(worker.pid), cpuMs(beam)] as const;
    await run(worker, send, COUNT);
    const after = [performance.now(), ownMs(), cpuMs(worker.pid), cpuMs(beam)] as const;
    const [sender, work, broker] = [after[1] - before[1], after[2] - before[2], after[3] - before[3]];
    const rate = Math.round(COUNT / ((after[0] - before[0]) / 1000));
    console.log(`| ${r} | ${name} | ${rate.toLocaleString('en-US')} | ${us(sender)} | ${us(work)} | ${us(broker)} | ${us(sender + work + broker)} |`);
  }

await raw.stop();
await nori.stop();
await channel.deleteQueue(queue);
await connection.close();
await leaveNothing(app, noriQueue);
