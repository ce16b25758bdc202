/**
 * The commands a worker answers (celery/worker/control.py), with Celery's argument names and
 * reply shapes, so `celery inspect` / `celery control` and nori's client read them alike.
 */
import { arch, release, type } from 'node:os';
import { resourceUsage, version } from 'node:process';
import type { ConnectionInfo } from '@nori/core';
import type { ResolvedConfig } from '../config.js';
import { SOFTWARE, type WorkerEventSender } from '../events/worker-event-sender.js';
import type { LamportClock } from '../events/clock.js';
import { msOrUndefined, secondsOrNull, toSeconds } from '../protocol/units.js';
import { parseRate } from '../worker/admission/rate-limit.js';
import type { Task, TaskHandler } from '../task.js';
import type { Worker } from '../worker/worker.js';
import { censorSettings } from './censor.js';
import { warnDuplicateNodenames } from './duplicate-nodename.js';
import type { HeldTasks } from './held-tasks.js';

export interface PanelContext {
  readonly worker: Worker;
  readonly tasks: ReadonlyMap<string, Task<TaskHandler>>;
  readonly conf: ResolvedConfig;
  readonly clock: LamportClock;
  readonly held: HeldTasks;
  readonly events: WorkerEventSender | undefined;
  readonly broker: ConnectionInfo;
  readonly startedAt: number;
  /** Writes the revoked ids to the state file, if there is one. */
  saveRevoked(): Promise<void>;
}

type Args = Readonly<Record<string, unknown>>;
export type Command = (ctx: PanelContext, args: Args) => unknown;

/** A command that asks the worker to shut down: it gets no reply (Celery raises WorkerShutdown). */
export const NO_REPLY = Symbol('no reply');

const ok = (value: string): { ok: string } => ({ ok: value });
const nok = (value: string): { error: string } => ({ error: value });
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** Celery's `conf` reply: the settings under Celery's names. */
function celeryConf(conf: ResolvedConfig, broker: ConnectionInfo): Record<string, unknown> {
  const p = conf.policy;
  return {
    broker_url: broker.url,
    result_backend: conf.backend ?? null,
    task_default_queue: conf.defaultQueue,
    task_default_exchange: conf.defaultExchange,
    task_default_routing_key: conf.defaultRoutingKey,
    task_serializer: p.serializer,
    accept_content: conf.accept,
    worker_prefetch_multiplier: conf.prefetchMultiplier,
    result_expires: toSeconds(conf.resultExpires),
    timezone: conf.timezone,
    task_acks_late: p.acksLate,
    task_acks_on_failure_or_timeout: p.acksOnFailureOrTimeout,
    task_reject_on_worker_lost: p.rejectOnWorkerLost,
    task_ignore_result: p.ignoreResult,
    task_track_started: p.trackStarted,
    task_time_limit: secondsOrNull(p.timeLimit),
    task_soft_time_limit: secondsOrNull(p.softTimeLimit),
    task_default_rate_limit: p.rateLimit ?? null,
  };
}

function stats(ctx: PanelContext): Record<string, unknown> {
  const w = ctx.worker;
  const usage = resourceUsage();
  return {
    total: Object.fromEntries(ctx.held.total),
    pid: process.pid,
    clock: String(ctx.clock.value),
    uptime: Math.round(toSeconds(Date.now() - ctx.startedAt)),
    pool: {
      'max-concurrency': w.concurrency,
      processes: [process.pid],
      'max-tasks-per-child': 'N/A',
      'put-guarded-by-semaphore': false,
      timeouts: [0, 0],
      implementation: 'nori:async',
    },
    broker: {
      hostname: ctx.broker.hostname ?? null,
      userid: ctx.broker.userid ?? null,
      virtual_host: ctx.broker.virtualHost ?? null,
      port: ctx.broker.port ?? null,
      transport: ctx.broker.transport,
    },
    prefetch_count: w.prefetch,
    rusage: {
      utime: usage.userCPUTime / 1e6,
      stime: usage.systemCPUTime / 1e6,
      maxrss: usage.maxRSS,
      minflt: usage.minorPageFault,
      majflt: usage.majorPageFault,
      nvcsw: usage.voluntaryContextSwitches,
      nivcsw: usage.involuntaryContextSwitches,
    },
    sw_ident: 'nori',
  };
}

/** kombu's Queue.as_dict(recurse=True), as `inspect active_queues` shows it. */
function queueInfo(worker: Worker): Array<Record<string, unknown>> {
  return worker.queues.map((q) => {
    const o = q.options;
    const b = q.bindings[0];
    return {
      name: q.name,
      exchange: b
        ? {
            name: b.exchange.name,
            type: b.exchange.type,
            durable: b.exchange.durable,
            auto_delete: b.exchange.autoDelete,
            arguments: b.exchange.arguments,
            delivery_mode: null,
            no_declare: false,
            passive: false,
          }
        : null,
      routing_key: b?.routingKey ?? q.name,
      queue_arguments: o.queueArguments ?? null,
      binding_arguments: b?.arguments ?? null,
      consumer_arguments: null,
      durable: o.durable ?? true,
      exclusive: o.exclusive ?? false,
      auto_delete: o.autoDelete ?? false,
      no_ack: false,
      alias: null,
      bindings: [],
      no_declare: null,
      expires: secondsOrNull(o.expires),
      message_ttl: secondsOrNull(o.messageTtl),
      max_length: o.maxLength ?? null,
      max_length_bytes: null,
      max_priority: o.maxPriority ?? null,
    };
  });
}

/**
 * Celery's mingle (celery/worker/consumer/mingle.py): a starting worker sends `hello` with its
 * name and revoked ids; the others merge the ids and answer theirs with their clock. The same name
 * as this worker's is another worker under it (this one sends no `hello`): Celery answers None.
 */
function hello(ctx: PanelContext, a: Args): { revoked: Record<string, [number, string]>; clock: number } | null {
  const from = String(a['from_node']);
  if (from === ctx.worker.hostname) {
    warnDuplicateNodenames([from], 'Another worker started as');
    return null;
  }
  ctx.worker.revoked.mergeCelery(a['revoked']);
  return { revoked: ctx.worker.revoked.toCelery(), clock: ctx.clock.forward() };
}

/** Celery's `report` (app.bugreport()): software, platform and settings, for a bug report. */
function report(ctx: PanelContext): { ok: string } {
  const settings = censorSettings(celeryConf(ctx.conf, ctx.broker));
  return ok(
    [
      `software -> ${SOFTWARE.sw_ident}:${SOFTWARE.sw_ver} node:${version}`,
      `platform -> system:${type()} arch:${arch()} kernel version:${release()}`,
      `settings -> transport:${ctx.broker.transport} results:${settings['result_backend'] === null ? 'disabled' : String(settings['result_backend'])}`,
      '',
      ...Object.entries(settings).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
    ].join('\n'),
  );
}

/** What Celery's panel replies when a command raises (kombu's pidbox: `{'error': repr(exc)}`). */
const raised = (type: string, message: string): { error: string } => nok(`${type}('${message}')`);

function revoke(ctx: PanelContext, ids: string[], terminate: boolean): Promise<{ ok: string }> {
  for (const id of ids) ctx.worker.revoked.add(id);
  const saved = ctx.saveRevoked();
  if (!terminate) return saved.then(() => ok(`tasks ${ids.join(', ')} flagged as revoked`));
  const terminated = ids.filter((id) => ctx.worker.terminate(id));
  return saved.then(() => ok(terminated.length === 0 ? 'terminate: tasks unknown' : `terminate: ${terminated.join(', ')}`));
}

export const PANEL: Readonly<Record<string, Command>> = {
  ping: () => ok('pong'),
  hello,
  report,
  clock: (ctx) => ({ clock: ctx.clock.value }),
  active: (ctx, a) => ctx.held.active(a['safe'] === true),
  reserved: (ctx) => ctx.held.reserved(),
  scheduled: (ctx) => ctx.held.scheduled(),
  query_task: (ctx, a) => ctx.held.query(list(a['ids'])),
  revoked: (ctx) => ctx.worker.revoked.ids(),
  registered: (ctx, a) => {
    const items = list(a['taskinfoitems']);
    return [...ctx.tasks.values()]
      .filter((t) => a['builtins'] === true || !t.name.startsWith('celery.'))
      .map((t) => {
        const fields: Array<[string, unknown]> = [
          ['exchange', t.options.exchange],
          ['routing_key', t.options.routingKey],
          ['rate_limit', t.policy.rateLimit === undefined ? undefined : `${t.policy.rateLimit}/s`],
          ...items
            .filter((i) => !['exchange', 'routing_key', 'rate_limit'].includes(i))
            .map((i): [string, unknown] => [i, (t.options as Record<string, unknown>)[i]]),
        ];
        const shown = fields.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k}=${String(v)}`);
        return shown.length > 0 ? `${t.name} [${shown.join(' ')}]` : t.name;
      })
      .sort();
  },
  stats,
  active_queues: (ctx) => queueInfo(ctx.worker),
  conf: (ctx) => censorSettings(celeryConf(ctx.conf, ctx.broker)),
  revoke: (ctx, a) => revoke(ctx, list(a['task_id']), a['terminate'] === true),
  terminate: (ctx, a) => revoke(ctx, list(a['task_id']), true),
  rate_limit: (ctx, a) => {
    const task = ctx.tasks.get(String(a['task_name']));
    let rate: number | undefined;
    try {
      rate = a['rate_limit'] === null || a['rate_limit'] === undefined ? undefined : parseRate(a['rate_limit'] as string | number);
    } catch (error) {
      return nok(`Invalid rate limit string: ${(error as Error).message}`);
    }
    if (!task) return nok('unknown task');
    task.policy.rateLimit = rate;
    ctx.worker.resetRateLimit(task.name);
    return ok(rate === undefined ? 'rate limit disabled successfully' : 'new rate limit set successfully');
  },
  time_limit: (ctx, a) => {
    const task = ctx.tasks.get(String(a['task_name']));
    if (!task) return nok('unknown task');
    task.policy.softTimeLimit = msOrUndefined(a['soft']);
    task.policy.timeLimit = msOrUndefined(a['hard']);
    return ok('time limits set successfully');
  },
  pool_grow: (ctx, a) => {
    ctx.worker.resize(ctx.worker.concurrency + Number(a['n'] ?? 1));
    return ok('pool will grow');
  },
  pool_shrink: (ctx, a) => {
    ctx.worker.resize(ctx.worker.concurrency - Number(a['n'] ?? 1));
    return ok('pool will shrink');
  },
  add_consumer: async (ctx, a) => {
    await ctx.worker.addQueue(String(a['queue']));
    return ok(`add consumer ${String(a['queue'])}`);
  },
  cancel_consumer: async (ctx, a) => {
    await ctx.worker.cancelQueue(String(a['queue']));
    return ok(`no longer consuming from ${String(a['queue'])}`);
  },
  enable_events: (ctx) => {
    if (!ctx.events || ctx.events.taskEvents) return ok('task events already enabled');
    ctx.events.taskEvents = true;
    return ok('task events enabled');
  },
  disable_events: (ctx) => {
    if (!ctx.events?.taskEvents) return ok('task events already disabled');
    ctx.events.taskEvents = false;
    return ok('task events disabled');
  },
  heartbeat: async (ctx) => {
    await ctx.events?.heartbeat();
    return null;
  },
  autoscale: (ctx, a) => {
    const scaler = ctx.worker.autoscaler;
    if (!scaler) return raised('ValueError', 'Autoscale not enabled');
    const int = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));
    const [max, min] = scaler.update(int(a['max']), int(a['min']));
    return ok(`autoscale now max=${max} min=${min}`);
  },
  // Celery restarts its pool only with worker_pool_restarts, off by default; nori has no such setting.
  pool_restart: () => raised('ValueError', 'Pool restarts not enabled'),
  // Celery's gossip holds elections; a worker without gossip (as nori) answers None.
  election: () => null,
  shutdown: (ctx) => {
    void ctx.worker.stop();
    return NO_REPLY;
  },
};
