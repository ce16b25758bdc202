/**
 * Once-locks, celery_once's semantics (QueueOnce): a task with `once` takes a lock keyed by its
 * name and arguments before it is sent; while the lock is held (the task queued or running) a
 * second send of the same call throws AlreadyQueued, or with `graceful` returns the result of the
 * call that holds it. The worker releases the lock when the task ends (or when it starts, with
 * `unlockBefore`); the lock expires after `timeout` whatever happens (a killed worker). Retries
 * keep the lock. Backed by Redis (`SET NX PX`, the value is the holder's task id).
 */
import type { App } from '../app.js';
import { AlreadyQueued } from '../errors.js';
import type { TaskRequest } from '../protocol.js';
import type { AsyncResult } from '../result/async-result.js';
import type { Task, TaskHandler } from '../task.js';
import { TaskConfigError } from '../task-errors.js';
import type { Worker } from '../worker.js';
import { RedisOnceLock } from './redis-lock.js';

export interface OnceOptions {
  /** The lock key from the call; default every argument (celery_once's `keys` restricts them). */
  key?: (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => unknown;
  /** Lock lifetime, ms. Default `onceDefaultTimeout` (celery_once's 1 h). */
  timeout?: number;
  /** Return the holder's result instead of throwing AlreadyQueued. */
  graceful?: boolean;
  /** Release when the task starts instead of when it ends (celery_once's unlock_before_run). */
  unlockBefore?: boolean;
}

export interface OnceSettings {
  /** Where once-locks live: a redis:// URL. Default the result backend's, else the broker's, when Redis. */
  onceBackend?: string;
  /** Default lock lifetime, ms. Default 3 600 000. */
  onceDefaultTimeout?: number;
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

const REDIS = /^(redis|rediss|redis\+socket|sentinel):\/\//i;

export class OnceLocks {
  readonly #app: App;
  readonly #url: string | undefined;
  readonly #timeout: number;
  #lock: RedisOnceLock | undefined;

  constructor(app: App, settings: OnceSettings) {
    this.#app = app;
    const broker = Array.isArray(app.conf.broker) ? app.conf.broker[0] : (app.conf.broker as string);
    this.#url = settings.onceBackend ?? [app.conf.backend, broker].find((u): u is string => typeof u === 'string' && REDIS.test(u));
    this.#timeout = settings.onceDefaultTimeout ?? 3_600_000;
    app.on('worker-created', (worker) => this.#releaseOnEnd(worker));
  }

  #store(): RedisOnceLock {
    if (!this.#url || !REDIS.test(this.#url))
      throw new TaskConfigError('once-locks need Redis: set onceBackend to a redis:// URL (or use a Redis backend or broker)');
    this.#lock ??= new RedisOnceLock(this.#url, this.#app.connection.logger);
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
    if (once.graceful && attempt.holder) return this.#app.result<R>(attempt.holder);
    throw new AlreadyQueued(key, attempt.remaining, attempt.holder);
  }

  /** Gives back a lock a task took (its message could not be sent, or it ended). */
  async release(task: Task<TaskHandler>, taskId: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#store().release(onceKey(task.name, args, kwargs, (task.options.once as OnceOptions).key), taskId);
  }

  async close(): Promise<void> {
    await this.#lock?.close();
  }

  #releaseOnEnd(worker: Worker): void {
    const release = (request: TaskRequest | undefined, when: 'start' | 'end'): void => {
      const task = request && this.#app.tasks.get(request.name);
      const once = task?.options.once;
      if (!task || !once || (once.unlockBefore ? 'start' : 'end') !== when) return;
      this.release(task, request.id, request.args, request.kwargs).catch((error: unknown) =>
        this.#app.connection.logger.error({ err: error, task: request.id }, 'once-lock not released'),
      );
    };
    worker.on('task-started', (r) => release(r, 'start'));
    for (const event of ['task-succeeded', 'task-failed', 'task-revoked', 'task-rejected'] as const)
      worker.on(event, (...[r]: [TaskRequest | undefined, ...unknown[]]) => release(r, 'end'));
  }
}
