/** A worker's options (Celery's worker settings, durations in ms) and the steps that run beside it. */
import { hostname } from 'node:os';
import { DEFAULT_MAX_LAPSES, type ConnectionOptions, type Queue } from '@nori/core';
import type { ResolvedConfig } from '../config.js';
import { TaskConfigError } from '../errors.js';
import type { EtaLimits } from './admission/eta.js';
import type { AutoscaleOptions } from './autoscaler.js';

export interface WorkerOptions {
  /** Queue names (declared as Celery declares them) or Queue entities; default the app's default queue. */
  queues?: ReadonlyArray<string | Queue>;
  /** Tasks running at once. Default 10. */
  concurrency?: number;
  /**
   * Celery's `--autoscale max,min`: start at `min` (at least 1) tasks at once, grow while busy up
   * to `max`, shrink while idle; prefetch follows `max`. Replaces `concurrency`.
   */
  autoscale?: AutoscaleOptions;
  /**
   * 'async' (default): handlers run on this thread. 'threads': moduleTask handlers run in worker
   * threads, 'process': in child processes (a crash or a hung task cannot reach the worker); other
   * handlers still run here.
   */
  pool?: 'async' | 'threads' | 'process';
  /** Thread and process pools: replace a thread or child after this many tasks (1 = a fresh one per task). */
  maxTasksPerChild?: number;
  /** Replace a thread whose heap (threads), or a child whose resident memory (process), passed this many bytes after a task. */
  maxMemoryPerChild?: number;
  /** Process pool: Node flags of the children (default this process's), e.g. `['--max-old-space-size=512']`. */
  childExecArgv?: readonly string[];
  /** Overrides the app's prefetchMultiplier. */
  prefetchMultiplier?: number;
  /** Node name; default `nori-<pid>@<host>` (see defaultNodename). */
  hostname?: string;
  /** How long a warm stop waits for running tasks before going cold, ms. Default 60 000. */
  shutdownTimeout?: number;
  /** ETAs due within this many ms are held in the worker (unacked, under a renewed lease) and run when due; later ones are parked in the broker. Default 300 000 (5 min). */
  etaHoldMax?: number;
  /** Most ETA tasks held at once (each keeps a place in the prefetch window); past it they are parked. Default prefetch − concurrency (at least 1; no limit with prefetch 0). */
  etaHoldLimit?: number;
  /**
   * A warm stop moves the tasks parked in its queues' delayed sets (Redis) back into the queues, so
   * Celery workers on them get the tasks once no nori worker runs (they never read nori's delayed
   * set). Default true; false leaves them parked (a nori-only pool with many parked tasks, which
   * each stop would otherwise move through the queue once).
   */
  returnParkedOnStop?: boolean;
  /**
   * Lease lapses a task message survives (core's consumer `maxLapses`; default
   * `DEFAULT_MAX_LAPSES`, 5). A lapse means the worker holding it died, or its event loop was stuck
   * past the transport's `maxBlockedMs`; on RabbitMQ it is a quorum queue's delivery count. A
   * message that lapsed more often is not run again: its FAILURE (`WorkerLostError`, saying why) is
   * stored and it is rejected (dead-lettered where its queue has a dead-letter exchange).
   */
  maxLapses?: number;
  /** Options of the worker's own broker connection (default the app's). */
  connection?: ConnectionOptions;
  /** Send task and worker events (Celery's `-E`); default the app's `sendEvents`. */
  sendEvents?: boolean;
  /** Send a worker-heartbeat every `heartbeatInterval` while sending events. Default true; false is Celery's `--without-heartbeat`. */
  heartbeat?: boolean;
  /** JSON file the revoked ids are kept in across restarts (Celery's `--statedb`). */
  stateFile?: string;
}

/** Runs beside the worker (events, remote control): started once it consumes, stopped before it closes. */
export interface WorkerStep {
  /** `report` sends an error to the worker's `error` event. */
  start(report: (error: Error) => void): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A worker's node name unless told: `nori-<pid>@<host>`. Not Celery's `celery@<host>`, which a
 * Python worker on the same host takes too (the two would share one mailbox queue, so a broadcast
 * reaches one of them); the pid keeps several nori processes on one host apart as well.
 */
export const defaultNodename = (): string => `nori-${process.pid}@${hostname()}`;

const POOLS: ReadonlySet<unknown> = new Set(['async', 'threads', 'process']);

/** Concurrency and prefetch (and the pool's name), checked. */
export function workerLimits(options: WorkerOptions, conf: ResolvedConfig): { concurrency: number; prefetch: number } {
  // A pool nori does not have must not quietly run tasks in-process.
  if (options.pool !== undefined && !POOLS.has(options.pool))
    throw new TaskConfigError(`pool must be 'async', 'threads' or 'process', got ${JSON.stringify(options.pool)}`);
  const scale = options.autoscale;
  const concurrency = scale ? Math.max(scale.min ?? 0, 1) : (options.concurrency ?? 10);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TaskConfigError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  // As Celery's autoscaler: the prefetch window fits the most tasks the pool may grow to.
  return { concurrency, prefetch: (options.prefetchMultiplier ?? conf.prefetchMultiplier) * Math.max(concurrency, scale?.max ?? 0) };
}

/** How long ETA tasks are held in the worker, and how many at once (see admission/eta.ts), checked. */
export function etaLimits(options: WorkerOptions, limits: { concurrency: number; prefetch: number }): EtaLimits {
  const holdMax = options.etaHoldMax ?? 300_000;
  if (!(holdMax >= 0)) throw new TaskConfigError(`etaHoldMax must be a number of ms >= 0, got ${holdMax}`);
  const holdLimit = options.etaHoldLimit ?? (limits.prefetch === 0 ? Infinity : Math.max(1, limits.prefetch - limits.concurrency));
  if (!(holdLimit >= 0)) throw new TaskConfigError(`etaHoldLimit must be a number >= 0, got ${holdLimit}`);
  return { holdMax, holdLimit };
}

/** How long a warm stop waits for running tasks (and a consumer for its handlers), ms. */
export const shutdownTimeout = (options: WorkerOptions): number => options.shutdownTimeout ?? 60_000;

/** Lease lapses a task message survives (see `WorkerOptions.maxLapses`), checked. */
export function maxLapses(options: WorkerOptions): number {
  const max = options.maxLapses ?? DEFAULT_MAX_LAPSES;
  if (!(max >= 0)) throw new TaskConfigError(`maxLapses must be a number >= 0, got ${max}`);
  return max;
}
