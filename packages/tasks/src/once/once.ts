/**
 * Once-locks, celery_once's semantics (QueueOnce): a task with `once` takes a lock keyed by its
 * name and arguments before it is sent; while the lock is held (the task queued or running) a
 * second send of the same call throws AlreadyQueued, or with `graceful` returns the result of the
 * call that holds it. The worker releases the lock when the task ends (or when it starts, with
 * `unlockBefore`); the lock expires after `timeout` whatever happens (a killed worker). Retries
 * keep the lock. Backed by Redis (`SET NX PX`, the value is the holder's task id).
 */
import type { Logger } from '@nori/core';
import { AlreadyQueued, TaskConfigError } from '../errors.js';
import { firstUrl, isRedisUrl } from '../protocol/broker-url.js';
import type { AsyncResult } from '../result/async-result.js';
import type { Task, TaskHandler } from '../task.js';
import type { OnceOptions, OnceSettings } from './options.js';
import { RedisOnceLock } from './redis-lock.js';

/** What once-locks need from their App. */
export interface OnceHost {
  readonly conf: { readonly broker: string | readonly string[]; readonly backend: string | undefined };
  readonly logger: Logger;
  result<R>(id: string): AsyncResult<R>;
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` make one key. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** celery_once's `qo_<task>_<arg>-<value>_...`: positional arguments by index, keyword arguments sorted. */
export function onceKey(name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, key?: OnceOptions['key']): string {
  if (key) return `qo_${name}_${stable(key(args, kwargs))}`;
  const parts = [
    ...args.map((v, i) => `${i}-${stable(v)}`),
    ...Object.keys(kwargs)
      .sort()
      .map((k) => `${k}-${stable(kwargs[k])}`),
  ];
  return ['qo', name, ...parts].join('_');
}

export class OnceLocks {
  readonly #host: OnceHost;
  readonly #url: string | undefined;
  readonly #timeout: number;
  #lock: RedisOnceLock | undefined;

  constructor(host: OnceHost, settings: OnceSettings) {
    this.#host = host;
    this.#url = settings.onceBackend ?? [host.conf.backend, firstUrl(host.conf.broker)].find(isRedisUrl);
    this.#timeout = settings.onceDefaultTimeout ?? 3_600_000;
  }

  #store(): RedisOnceLock {
    if (!isRedisUrl(this.#url)) throw new TaskConfigError('once-locks need Redis: set onceBackend to a redis:// URL (or use a Redis backend or broker)');
    this.#lock ??= new RedisOnceLock(this.#url, this.#host.logger);
    return this.#lock;
  }

  /**
   * Before a task with `once` is sent: takes the lock for `taskId`. Undefined when taken (send it);
   * the holder's result when `graceful`; otherwise throws AlreadyQueued.
   */
  async acquire<R>(
    task: Task<TaskHandler>,
    taskId: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
  ): Promise<AsyncResult<R> | undefined> {
    const once = task.options.once as OnceOptions;
    const key = onceKey(task.name, args, kwargs, once.key);
    const attempt = await this.#store().acquire(key, taskId, once.timeout ?? this.#timeout);
    if (attempt.acquired) return undefined;
    if (once.graceful && attempt.holder) return this.#host.result<R>(attempt.holder);
    throw new AlreadyQueued(key, attempt.remaining, attempt.holder);
  }

  /** Gives back a lock a task took (its message could not be sent, or the task ended; when, the tracer decides). */
  async release(task: Task<TaskHandler>, taskId: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#store().release(onceKey(task.name, args, kwargs, (task.options.once as OnceOptions).key), taskId);
  }

  async close(): Promise<void> {
    await this.#lock?.close();
  }
}
