/**
 * Broker bandwidth (the field guide's first pitfall, Celery events saturating the Redis network):
 * `add(i, 1)` called N times one after another, each result awaited, measured as Redis's own
 * total_net_input_bytes + total_net_output_bytes around the calls, for nori (App + worker) and Python
 * Celery 5.2 (its client + solo worker), each without events, with task and worker events nobody
 * reads (on Redis a PUBLISH to no subscriber costs only its way in), and with one event receiver
 * reading them. Everything on the server counts (broker and result databases,
 * every connection): run it on a Redis of its own (REDIS_URL); the header says how many other
 * clients were connected.
 *   npm run bench:bytes [-- --count 200 --json out.json]
 */
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { sleep } from '@nori/core';
import '@nori/redis';
import { App } from '@nori/tasks';
import { startPython } from '../../packages/tasks/test/python/python-process.js';
import { BENCH_PYTHON, benchAppEnv, celeryVersion, startBenchCelery } from '../lib/celery-worker.js';
import { printTable, runHeader } from '../lib/harness.js';
import { leaveNothing, OWN_NAMES } from '../lib/own-names.js';
import { ResultKeys } from '../lib/result-keys.js';
import { WorkerProcess } from '../lib/worker-process.js';
import { numberArg, runName, stringArg } from '../lib/workload.js';
import { benchTasks } from '../workers/nori-tasks.js';
import { redisUrl } from '@nori/testing/brokers';

const COUNT = numberArg('count', 200);
const REDIS = redisUrl();
const RESULTS = redisUrl(1);
/** Events off, sent with nobody reading them, or sent and read by one receiver. */
type Events = 'off' | 'unread' | 'read';

/** The task events a worker sends per task: task-received, task-started, task-succeeded. */
const TASK_EVENTS = ['task-received', 'task-started', 'task-succeeded'];

const stats = new Redis(REDIS);
const results = new Redis(RESULTS);
const celery = celeryVersion();

async function counters(): Promise<{ input: number; output: number }> {
  const info = await stats.info('stats');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
  return { input: field('total_net_input_bytes'), output: field('total_net_output_bytes') };
}

/** The bytes one INFO stats call adds to the counters (its request in, its reply out), taken off every figure. */
async function infoCost(): Promise<{ input: number; output: number }> {
  const a = await counters();
  const b = await counters();
  return { input: b.input - a.input, output: b.output - a.output };
}

/** One side of a case: ready after an untimed first call; `calls()` makes the COUNT calls. */
interface Caller {
  calls(): Promise<void>;
  close(): Promise<void>;
}

/** nori: the App calls `add.delay(i, 1)` and `get()`s each; its worker runs in a process of its own. */
async function noriCaller(queue: string, events: boolean): Promise<Caller> {
  const worker = await WorkerProcess.start({ kind: 'nori', broker: REDIS, backend: RESULTS, queue, concurrency: 10, app: OWN_NAMES, events });
  const app = new App({ broker: REDIS, backend: RESULTS, defaultQueue: queue, ...OWN_NAMES });
  const { add } = benchTasks(app);
  const keys = new ResultKeys(results);
  const call = async (i: number): Promise<void> => {
    const r = await add.delay(i, 1);
    keys.track(r.id);
    const value = await Promise.race([r.get({ timeout: 30_000 }), worker.died]);
    if (value !== i + 1) throw new Error(`add(${i}, 1) returned ${String(value)}`);
  };
  await call(0);
  return {
    calls: async () => {
      for (let i = 0; i < COUNT; i++) await call(i);
    },
    close: async () => {
      await worker.stop();
      await keys.cleanAll();
      await leaveNothing(app, queue);
    },
  };
}

/** Celery: benchmarks/python/sequential_calls.py (Celery's client) calls a Celery solo worker. */
async function celeryCaller(queue: string, events: boolean): Promise<Caller> {
  const worker = await startBenchCelery(REDIS, RESULTS, queue, 'solo', { events });
  const env = benchAppEnv(REDIS, RESULTS, queue);
  const client = await startPython(
    [`${BENCH_PYTHON}/sequential_calls.py`, String(COUNT)],
    { ...env.env, NORI_BROKER: REDIS, NORI_BACKEND: RESULTS, NORI_QUEUE: queue },
    /ready/,
  );
  const keys = new ResultKeys(results);
  return {
    calls: async () => {
      // Its last line, the task ids, says the calls are done.
      const done = new Promise<void>((resolve) => client.process.stdout?.on('data', () => client.json().length > 0 && resolve()));
      client.process.kill('SIGUSR1');
      await Promise.race([done, client.died, worker.died]);
      for (const id of client.json<{ ids: string[] }>()[0]?.ids ?? []) keys.track(id);
    },
    close: async () => {
      await client.stop();
      await worker.stop();
      await keys.cleanAll();
      await leaveNothing(new App({ broker: REDIS, ...OWN_NAMES }), queue);
    },
  };
}

interface Measured {
  sender: string;
  events: Events;
  input: number;
  output: number;
  /** Task events the receiver got during the calls, by type. */
  received: Record<string, number>;
}

/** Starts the side (and a receiver with events), reads the counters around the calls, stops everything. */
async function measure(
  sender: string,
  events: Events,
  start: (queue: string, events: boolean) => Promise<Caller>,
  overhead: { input: number; output: number },
): Promise<Measured> {
  const queue = runName(`bytes-${sender.split(' ')[0]?.toLowerCase() as string}-${events}`);
  const caller = await start(queue, events !== 'off');
  const listener = new App({ broker: REDIS, ...OWN_NAMES });
  const received: Record<string, number> = {};
  const receiver =
    events === 'read' ? await listener.events.receive({ '*': (e) => void (received[e.type] = (received[e.type] ?? 0) + 1) }, { wakeup: false }) : undefined;
  // Let the first call's events and the receiver's start settle before the first reading.
  await sleep(1000);
  for (const type of Object.keys(received)) delete received[type];
  const before = await counters();
  await caller.calls();
  // The last task's events follow its result: wait for them (at most 10 s).
  for (let waited = 0; receiver && waited < 10_000 && TASK_EVENTS.some((t) => (received[t] ?? 0) < COUNT); waited += 50) await sleep(50);
  // Events that follow the last result with nobody counting them: the same half second in every case.
  await sleep(500);
  const after = await counters();
  await receiver?.stop();
  await listener.close();
  await caller.close();
  return {
    sender,
    events,
    input: after.input - before.input - overhead.input,
    output: after.output - before.output - overhead.output,
    received: { ...received },
  };
}

await results.ping();
const clients = (await stats.client('LIST')) as string;
const others = clients.trim().split('\n').length - 2; // less the two of this process
const overhead = await infoCost();
const header = runHeader('broker bytes per task on Redis', {
  count: COUNT,
  calls: 'add(i, 1) one at a time, each result awaited (Redis backend, db 1), after one untimed call',
  events: 'task and worker events (nori sendEvents, Celery -E), heartbeats off on both; read: one nori event receiver reading them',
  workers: 'nori: App + worker (concurrency 10) in a process of its own; Celery: its client (sequential_calls.py) + solo worker',
  celery: celery ?? 'absent',
  otherClientsAtStart: others,
  infoOverheadBytes: overhead,
});
if (others > 0) console.log(`  warning: ${others} other clients are connected to this Redis; their traffic is counted too`);

const sides: Array<[string, (queue: string, events: boolean) => Promise<Caller>]> = [['nori', noriCaller]];
if (celery) sides.push([`Celery ${celery}`, celeryCaller]);
const measured: Measured[] = [];
for (const [sender, start] of sides) for (const events of ['off', 'unread', 'read'] as const) measured.push(await measure(sender, events, start, overhead));

const kb = (bytes: number): string => (bytes / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 });
printTable(
  ['sender + worker', 'events', 'bytes in', 'bytes out', 'total KB', 'KB a task', 'task events received'],
  measured.map((m) => [
    m.sender,
    { off: 'off', unread: 'task + worker, no receiver', read: 'task + worker, 1 receiver' }[m.events],
    m.input.toLocaleString('en-US'),
    m.output.toLocaleString('en-US'),
    kb(m.input + m.output),
    kb((m.input + m.output) / COUNT),
    m.events === 'read' ? TASK_EVENTS.map((t) => `${t} ${m.received[t] ?? 0}`).join(', ') : '',
  ]),
);

console.log('');
const perTask = (sender: string, events: Events): number => {
  const m = measured.find((x) => x.sender === sender && x.events === events) as Measured;
  return (m.input + m.output) / COUNT;
};
for (const events of ['unread', 'read'] as const) {
  const cost = (sender: string): number => perTask(sender, events) - perTask(sender, 'off');
  const nori = cost('nori');
  const python = celery ? cost(`Celery ${celery}`) : undefined;
  const versus = python === undefined ? '' : `, Celery ${kb(python)} KB (nori / Celery = ${((nori / python) * 100).toFixed(0)}%)`;
  console.log(
    `events ${events === 'read' ? 'read by 1 receiver' : 'nobody reads'} cost nori ${kb(nori)} KB a task${versus} (target <= 0.5 KB: ${nori <= 500 ? 'met' : 'missed'})`,
  );
}
for (const m of measured.filter((x) => x.events === 'read')) {
  const short = TASK_EVENTS.filter((t) => (m.received[t] ?? 0) < COUNT);
  if (short.length > 0) console.log(`warning: ${m.sender}'s receiver got fewer than ${COUNT} of ${short.join(', ')}`);
}

const json = stringArg('json');
if (json) writeFileSync(json, `${JSON.stringify({ ...header, results: measured }, null, 2)}\n`);

stats.disconnect();
results.disconnect();
