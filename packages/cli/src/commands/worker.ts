/**
 * `nori worker`: runs the app's worker until SIGTERM/SIGINT (warm shutdown: running tasks finish,
 * reserved messages go back) and a second signal, or SIGQUIT (cold: running tasks are abandoned,
 * their late-acked messages given back), as Celery's worker does.
 */
import type { Command } from 'commander';
import type { TaskRequest, WorkerOptions } from '@nori/tasks';
import { toSeconds } from '@nori/tasks/protocol';
import { banner, bannerFields } from '../banner.js';
import { loadApp, type AppSource } from '../load-app.js';
import { Log, type LogOptions } from '../log.js';
import { duration, int, list } from '../parse.js';
import { UsageError } from '../errors.js';

interface Options extends AppSource, LogOptions {
  queues?: string[];
  concurrency?: number;
  pool: 'async' | 'threads' | 'process';
  autoscale?: [number, number];
  maxTasksPerChild?: number;
  events?: boolean;
  withoutHeartbeat?: boolean;
  hostname?: string;
  shutdownTimeout?: number;
  maxLapses?: number;
  etaHoldMax?: number;
  etaHoldLimit?: number;
  returnParkedOnStop: boolean;
}

function parseAutoscale(value: string): [number, number] {
  const [max, min = '0'] = value.split(',');
  const hi = Number(max);
  const lo = Number(min);
  if (!Number.isInteger(hi) || !Number.isInteger(lo) || lo < 0 || hi < 1 || lo > hi)
    throw new UsageError(`--autoscale takes max,min with 1 <= max and 0 <= min <= max, got "${value}"`);
  return [hi, lo];
}

function parsePool(value: string): 'async' | 'threads' | 'process' {
  if (value !== 'async' && value !== 'threads' && value !== 'process') throw new UsageError(`--pool must be async, threads or process, got "${value}"`);
  return value;
}

const label = (r: TaskRequest): string => `${r.name}[${r.id}]`;
const fields = (r: TaskRequest, state: string): Record<string, unknown> => ({ task: r.name, id: r.id, state });

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description("run a worker for the app's tasks (SIGTERM/SIGINT: warm shutdown, a second signal or SIGQUIT: cold)")
    .option('-Q, --queues <names>', "queues to consume, comma-separated (default: the app's default queue)", list)
    .option('-c, --concurrency <n>', 'tasks running at once (default 10)', int('--concurrency', 1))
    .option(
      '-P, --pool <pool>',
      'async (handlers on this thread), threads or process (moduleTask handlers in worker threads or child processes)',
      parsePool,
      'async',
    )
    .option('--autoscale <max,min>', 'grow up to max tasks at once while busy, shrink to min while idle', parseAutoscale)
    .option('--max-tasks-per-child <n>', 'threads and process pools: replace a thread or child after this many tasks', int('--max-tasks-per-child', 1))
    .option('-E, --events', 'send task and worker events (for `nori events` and `nori flower`)')
    .option('--without-heartbeat', 'with -E: send no worker-heartbeat events (monitors then see the worker as offline)')
    .option('-n, --hostname <name>', 'node name (default nori-<pid>@<host>)')
    .option('--shutdown-timeout <ms>', 'how long a warm shutdown waits for running tasks before going cold (or 30s)', duration('--shutdown-timeout', 'ms'))
    .option(
      '--max-lapses <n>',
      'lease lapses a task message survives (its worker died or was stuck); past them its FAILURE (WorkerLostError) is stored and it is dead-lettered (default 5)',
      int('--max-lapses', 0),
    )
    .option(
      '--eta-hold-max <ms>',
      'ETA tasks due within this long are held in the worker and run when due, later ones parked in the broker (or 5m; default 5 min)',
      duration('--eta-hold-max', 'ms'),
    )
    .option(
      '--eta-hold-limit <n>',
      'most ETA tasks held at once (each keeps a place in the prefetch window), past it they are parked (default prefetch - concurrency)',
      int('--eta-hold-limit', 0),
    )
    .option('--no-return-parked-on-stop', "a warm stop leaves parked ETA tasks in Redis's delayed sets (default: back into the queues, for Celery workers)")
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Options>();
      if (o.maxTasksPerChild !== undefined && o.pool === 'async') throw new UsageError('--max-tasks-per-child needs --pool threads or process');
      const log = Log.of(o, 'warning');
      const app = await loadApp(o);
      const options: WorkerOptions = {
        pool: o.pool,
        ...(o.autoscale ? { autoscale: { max: o.autoscale[0], min: o.autoscale[1] } } : { concurrency: o.concurrency ?? 10 }),
        ...(o.queues && { queues: o.queues }),
        ...(o.maxTasksPerChild !== undefined && { maxTasksPerChild: o.maxTasksPerChild }),
        ...(o.events && { sendEvents: true }),
        ...(o.withoutHeartbeat && { heartbeat: false }),
        ...(o.hostname && { hostname: o.hostname }),
        ...(o.shutdownTimeout !== undefined && { shutdownTimeout: o.shutdownTimeout }),
        ...(o.maxLapses !== undefined && { maxLapses: o.maxLapses }),
        ...(o.etaHoldMax !== undefined && { etaHoldMax: o.etaHoldMax }),
        ...(o.etaHoldLimit !== undefined && { etaHoldLimit: o.etaHoldLimit }),
        ...(!o.returnParkedOnStop && { returnParkedOnStop: false }),
      };
      const worker = app.worker(options);
      const about = bannerFields(app, worker, { app: o.app, pool: o.pool, events: o.events === true });
      // Celery prints its banner on stdout whatever the level; a log shipper gets it as one record.
      if (log.json) log.write('info', `${worker.hostname} starting`, { ...about }, true);
      else process.stdout.write(banner(about));
      worker.on('worker-resized', (i) => log.info(`pool: ${i.concurrency} at once`, { hostname: i.hostname, concurrency: i.concurrency }));
      worker.on('worker-ready', (i) => log.info(`${i.hostname} ready, consuming ${i.queues.join(', ')}`, { hostname: i.hostname, queues: i.queues }));
      worker.on('task-received', (r) => log.info(`Task ${label(r)} received`, fields(r, 'RECEIVED')));
      worker.on('task-succeeded', (r, i) =>
        log.info(`Task ${label(r)} succeeded in ${toSeconds(i.runtime).toFixed(3)}s: ${JSON.stringify(i.result) ?? 'undefined'}`, {
          ...fields(r, 'SUCCESS'),
          duration_ms: i.runtime,
          result: i.result,
        }),
      );
      worker.on('task-failed', (r, i) =>
        log.error(`Task ${label(r)} raised: ${i.error instanceof Error ? (i.error.stack ?? i.error.message) : String(i.error)}`, {
          ...fields(r, 'FAILURE'),
          exception: i.error instanceof Error ? `${i.error.name}: ${i.error.message}` : String(i.error),
        }),
      );
      worker.on('task-retried', (r, i) =>
        log.info(`Task ${label(r)} retry at ${i.eta.toISOString()}: ${i.reason?.message ?? ''}`, { ...fields(r, 'RETRY'), eta: i.eta.toISOString() }),
      );
      worker.on('task-parked', (r, i) =>
        log.info(`Task ${label(r)} parked until ${i.eta.toISOString()}`, { task: r.name, id: r.id, eta: i.eta.toISOString() }),
      );
      worker.on('task-revoked', (r) => log.info(`Task ${label(r)} revoked`, fields(r, 'REVOKED')));
      worker.on('error', (e) => log.failure(e));

      let signals = 0;
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          signals++;
          const cold = signal === 'SIGQUIT' || signals > 1;
          log.warn(
            cold
              ? `${signal}: cold shutdown (running tasks are abandoned)`
              : `${signal}: warm shutdown (waiting for ${worker.active} running tasks; again for cold)`,
          );
          const stopping = worker.stop();
          if (cold && signals === 1) void worker.stop();
          if (signals === 1)
            void stopping.then(resolve, (e: unknown) => {
              log.failure(e);
              resolve();
            });
        };
        for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.on(s, onSignal);
        // Stopped without a signal: remote control's shutdown (`nori control shutdown`, flower).
        worker.on('worker-shutdown', () => {
          if (signals === 0) log.warn('shutdown requested by remote control');
          resolve();
        });
      });
      await worker.start();
      await stopped;
      await app.close();
      log.info('worker stopped');
      // A task abandoned by a cold stop (or user code's timers) must not keep the process alive.
      process.exit(process.exitCode ?? 0);
    });
}
