/** A worker's options (Celery's worker settings, durations in ms) and the steps that run beside it. */
import type { ConnectionOptions, Queue } from '@nori/core';
import type { ResolvedConfig } from '../config.js';
import { TaskConfigError } from '../errors.js';

export interface WorkerOptions {
  /** Queue names (declared as Celery declares them) or Queue entities; default the app's default queue. */
  queues?: ReadonlyArray<string | Queue>;
  /** Tasks running at once. Default 10. */
  concurrency?: number;
  /** 'async' (default): handlers run on this thread. 'threads': moduleTask handlers run in worker threads (others still here). */
  pool?: 'async' | 'threads';
  /** Thread pool: replace threads after this many tasks (1 = a fresh thread per task). */
  maxTasksPerChild?: number;
  /** Thread pool: replace a thread whose heap passed this many bytes after a task. */
  maxMemoryPerChild?: number;
  /** Overrides the app's prefetchMultiplier. */
  prefetchMultiplier?: number;
  /** Node name; default `celery@<host>`. */
  hostname?: string;
  /** How long a warm stop waits for running tasks before going cold, ms. Default 60 000. */
  shutdownTimeout?: number;
  /** ETAs due within this many ms wait in memory (unacked); later ones are parked. Default 1000. */
  etaHoldMax?: number;
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

/** Concurrency and prefetch, checked. */
export function workerLimits(options: WorkerOptions, conf: ResolvedConfig): { concurrency: number; prefetch: number } {
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TaskConfigError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  return { concurrency, prefetch: (options.prefetchMultiplier ?? conf.prefetchMultiplier) * concurrency };
}

/** How long a warm stop waits for running tasks (and a consumer for its handlers), ms. */
export const shutdownTimeout = (options: WorkerOptions): number => options.shutdownTimeout ?? 60_000;
