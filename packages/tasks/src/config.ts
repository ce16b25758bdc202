/**
 * Celery's settings under camelCase names, durations in ms. `resolveConfig` fills Celery's
 * defaults except where nori deliberately differs (late acks: see the README's ack matrix).
 */
import type { ConnectionOptions, Logger, Queue, RetryPolicy } from '@nori/core';
import { TaskConfigError } from './errors.js';
import type { TaskRoutes } from './routes.js';
import type { EventsOptions } from './events/event.js';
import type { RemoteControlOptions } from './control/options.js';
import type { OnceSettings } from './once/options.js';
import { parseRate } from './worker/admission/rate-limit.js';
import { checkTimezone } from './protocol/time.js';

/** Settings a task may override (Celery's task attributes). */
export interface TaskPolicy {
  /** Ack after the task ends (default true in nori; Celery's default is false). */
  acksLate?: boolean;
  /** With late acks, ack (true) or reject/requeue (false) a failed or timed-out task. Default true. */
  acksOnFailureOrTimeout?: boolean;
  /** With late acks, requeue a task whose thread died instead of failing it. Default false. */
  rejectOnWorkerLost?: boolean;
  /** Store no result. */
  ignoreResult?: boolean;
  /** Store failures even with ignoreResult. Default false. */
  storeErrorsEvenIfIgnored?: boolean;
  /** Store STARTED when the task starts. Default false. */
  trackStarted?: boolean;
  /** Hard limit in ms: the task fails with TimeLimitExceeded (a thread-pool task is terminated). */
  timeLimit?: number;
  /** Soft limit in ms: the context's signal aborts with SoftTimeLimitExceeded. */
  softTimeLimit?: number;
  /** '10/s', '100/m', '1000/h' or tasks per second, per task per worker. */
  rateLimit?: string | number;
  /** Retries `retry()` allows (Celery's max_retries, default 3); null = no limit. */
  maxRetries?: number | null;
  /** Countdown of a `retry()` without one, ms. Default 180 000 (Celery's 3 minutes). */
  defaultRetryDelay?: number;
  serializer?: string;
  compression?: string;
  priority?: number;
}

export interface AppOptions extends TaskPolicy, EventsOptions, RemoteControlOptions, OnceSettings {
  /** Broker URL(s); default 'memory://'. */
  broker?: string | readonly string[];
  /** Result backend URL; none = results are not stored. */
  backend?: string;
  /** Options of the broker connection (transportOptions such as `leaseMs`, connectTimeout, ...). */
  connection?: ConnectionOptions;
  /** Default 'celery'. */
  defaultQueue?: string;
  /** Exchange of the default queue; default = defaultQueue (Celery's). */
  defaultExchange?: string;
  /** Routing key of the default queue; default = defaultQueue. */
  defaultRoutingKey?: string;
  /** 'persistent' (Celery's default) or 'transient'. */
  defaultDeliveryMode?: 'persistent' | 'transient';
  /** Declare queues with this x-max-priority (Celery's task_queue_max_priority). */
  queueMaxPriority?: number;
  /** Queues with their own declarations (Celery's task_queues); other names are created as Celery creates missing queues. */
  queues?: readonly Queue[];
  /** Task name glob → queue or route (Celery's task_routes). */
  taskRoutes?: TaskRoutes;
  /** Content types the worker accepts; default ['json']. */
  accept?: readonly string[];
  /** Prefetch = multiplier × concurrency; 0 = unlimited. Default 4. */
  prefetchMultiplier?: number;
  /** How long results are kept, ms. Default one day. */
  resultExpires?: number;
  /** Zone of eta/expires on the wire. Default 'UTC'. */
  timezone?: string;
  /**
   * Publish countdown/ETA tasks into the transport's delayed set (Redis, MongoDB, memory) rather than
   * into the queue with an `eta` header. Saves the worker's park round trip, but only nori consumers
   * move due messages out of that set: leave it false (the default) when Python workers consume.
   */
  publishDelayed?: boolean;
  /** Retry publishing on connection errors (Celery's task_publish_retry). Default true. */
  publishRetry?: boolean;
  publishRetryPolicy?: RetryPolicy;
  /** Node name used in `origin` and by workers; default `gen<pid>@<hostname>`. */
  hostname?: string;
  logger?: Logger;
}

export interface ResolvedPolicy {
  acksLate: boolean;
  acksOnFailureOrTimeout: boolean;
  rejectOnWorkerLost: boolean;
  ignoreResult: boolean;
  storeErrorsEvenIfIgnored: boolean;
  trackStarted: boolean;
  timeLimit: number | undefined;
  softTimeLimit: number | undefined;
  /** Tasks per second. */
  rateLimit: number | undefined;
  maxRetries: number | null;
  defaultRetryDelay: number;
  serializer: string;
  compression: string | undefined;
  priority: number | undefined;
}

function duration(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) throw new TaskConfigError(`${name} must be a number of ms >= 0, got ${value}`);
  return value;
}

/** A task's effective policy: its own settings over the app's over Celery's defaults. */
export function resolvePolicy(own: TaskPolicy, base?: ResolvedPolicy): ResolvedPolicy {
  const maxRetries = own.maxRetries === undefined ? (base?.maxRetries ?? 3) : own.maxRetries;
  if (maxRetries !== null && (!Number.isInteger(maxRetries) || maxRetries < 0))
    throw new TaskConfigError(`maxRetries must be a whole number >= 0 or null, got ${maxRetries}`);
  return {
    acksLate: own.acksLate ?? base?.acksLate ?? true,
    acksOnFailureOrTimeout: own.acksOnFailureOrTimeout ?? base?.acksOnFailureOrTimeout ?? true,
    rejectOnWorkerLost: own.rejectOnWorkerLost ?? base?.rejectOnWorkerLost ?? false,
    ignoreResult: own.ignoreResult ?? base?.ignoreResult ?? false,
    storeErrorsEvenIfIgnored: own.storeErrorsEvenIfIgnored ?? base?.storeErrorsEvenIfIgnored ?? false,
    trackStarted: own.trackStarted ?? base?.trackStarted ?? false,
    timeLimit: duration('timeLimit', own.timeLimit) ?? base?.timeLimit,
    softTimeLimit: duration('softTimeLimit', own.softTimeLimit) ?? base?.softTimeLimit,
    rateLimit: own.rateLimit !== undefined ? parseRate(own.rateLimit) : base?.rateLimit,
    maxRetries,
    defaultRetryDelay: duration('defaultRetryDelay', own.defaultRetryDelay) ?? base?.defaultRetryDelay ?? 180_000,
    serializer: own.serializer ?? base?.serializer ?? 'json',
    compression: own.compression ?? base?.compression,
    priority: own.priority ?? base?.priority,
  };
}

export interface ResolvedConfig {
  broker: string | readonly string[];
  backend: string | undefined;
  connection: ConnectionOptions;
  defaultQueue: string;
  defaultExchange: string;
  defaultRoutingKey: string;
  deliveryMode: 'persistent' | 'transient';
  queueMaxPriority: number | undefined;
  queues: readonly Queue[];
  taskRoutes: TaskRoutes | undefined;
  accept: readonly string[];
  prefetchMultiplier: number;
  resultExpires: number;
  timezone: string;
  publishDelayed: boolean;
  publishRetry: boolean;
  publishRetryPolicy: RetryPolicy | undefined;
  policy: ResolvedPolicy;
}

export function resolveConfig(o: AppOptions): ResolvedConfig {
  const defaultQueue = o.defaultQueue ?? 'celery';
  const prefetchMultiplier = o.prefetchMultiplier ?? 4;
  if (!Number.isInteger(prefetchMultiplier) || prefetchMultiplier < 0)
    throw new TaskConfigError(`prefetchMultiplier must be a whole number >= 0, got ${prefetchMultiplier}`);
  const timezone = o.timezone ?? 'UTC';
  checkTimezone(timezone);
  return {
    broker: o.broker ?? 'memory://',
    backend: o.backend,
    connection: { ...o.connection, ...(o.logger && !o.connection?.logger && { logger: o.logger }) },
    defaultQueue,
    defaultExchange: o.defaultExchange ?? defaultQueue,
    defaultRoutingKey: o.defaultRoutingKey ?? defaultQueue,
    deliveryMode: o.defaultDeliveryMode ?? 'persistent',
    queueMaxPriority: o.queueMaxPriority,
    queues: o.queues ?? [],
    taskRoutes: o.taskRoutes,
    accept: o.accept ?? ['json'],
    prefetchMultiplier,
    resultExpires: duration('resultExpires', o.resultExpires) ?? 86_400_000,
    timezone,
    publishDelayed: o.publishDelayed ?? false,
    publishRetry: o.publishRetry ?? true,
    publishRetryPolicy: o.publishRetryPolicy,
    policy: resolvePolicy(o),
  };
}
