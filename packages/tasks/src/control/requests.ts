/**
 * What a worker holds, for `inspect active / reserved / scheduled / query_task`, followed from its
 * local hooks: received → reserved (scheduled while its ETA is ahead), started → active, and gone
 * once it ends. Shapes are Celery's `Request.info()`.
 */
import type { WorkerEvents as WorkerHooks } from '../events.js';
import type { TaskRequest } from '../protocol.js';
import type { Task, TaskHandler } from '../task.js';
import type { Worker } from '../worker.js';

/** Celery's Request.info(). */
export interface RequestInfo {
  id: string;
  name: string;
  args: unknown[] | string;
  kwargs: Record<string, unknown> | string;
  type: string;
  hostname: string;
  /** UNIX seconds when it started; null while reserved. */
  time_start: number | null;
  acknowledged: boolean;
  delivery_info: { exchange: string | null; routing_key: string | null; priority: number | null; redelivered: boolean | null };
  worker_pid: number | null;
}

interface Tracked {
  request: TaskRequest;
  startedAt: number | null;
}

export class RequestTracker {
  readonly #worker: Worker;
  readonly #tasks: ReadonlyMap<string, Task<TaskHandler>>;
  readonly #requests = new Map<string, Tracked>();
  readonly #off: Array<() => void> = [];
  /** Tasks started, by name (Celery's `total` in stats). */
  readonly total = new Map<string, number>();

  constructor(worker: Worker, tasks: ReadonlyMap<string, Task<TaskHandler>>) {
    this.#worker = worker;
    this.#tasks = tasks;
    const listen = <E extends keyof WorkerHooks>(event: E, fn: (...args: WorkerHooks[E]) => void): void => {
      worker.on(event, fn);
      this.#off.push(() => worker.off(event, fn));
    };
    const done = (...[request]: [TaskRequest | undefined, ...unknown[]]): void => void (request && this.#requests.delete(request.id));
    listen('task-received', (r) => this.#requests.set(r.id, { request: r, startedAt: null }));
    listen('task-started', (r) => {
      this.#requests.set(r.id, { request: r, startedAt: Date.now() });
      this.total.set(r.name, (this.total.get(r.name) ?? 0) + 1);
    });
    for (const event of ['task-succeeded', 'task-failed', 'task-retried', 'task-rejected', 'task-revoked', 'task-parked'] as const) listen(event, done);
  }

  close(): void {
    for (const off of this.#off.splice(0)) off();
  }

  active(safe = false): RequestInfo[] {
    return [...this.#requests.values()].filter((t) => t.startedAt !== null).map((t) => this.#info(t, safe));
  }

  /** Received, not started, not waiting for an ETA. */
  reserved(): RequestInfo[] {
    const now = Date.now();
    return [...this.#requests.values()]
      .filter((t) => t.startedAt === null && !(t.request.eta && t.request.eta.getTime() > now))
      .map((t) => this.#info(t, false));
  }

  /** Waiting for their ETA (Celery's timer entries). */
  scheduled(): Array<{ eta: string; priority: number; request: RequestInfo }> {
    const now = Date.now();
    return [...this.#requests.values()]
      .filter((t) => t.startedAt === null && t.request.eta && t.request.eta.getTime() > now)
      .map((t) => ({ eta: (t.request.eta as Date).toISOString(), priority: 6, request: this.#info(t, false) }));
  }

  /** Celery's query_task: id → [state, info] for the ids held here. */
  query(ids: readonly string[]): Record<string, [string, RequestInfo]> {
    const out: Record<string, [string, RequestInfo]> = {};
    for (const id of ids) {
      const t = this.#requests.get(id);
      if (t) out[id] = [t.startedAt === null ? 'reserved' : 'active', this.#info(t, false)];
    }
    return out;
  }

  #info(t: Tracked, safe: boolean): RequestInfo {
    const r = t.request;
    const policy = this.#tasks.get(r.name)?.policy;
    return {
      id: r.id,
      name: r.name,
      args: safe ? r.argsrepr : r.args,
      kwargs: safe ? r.kwargsrepr : r.kwargs,
      type: r.name,
      hostname: this.#worker.hostname,
      time_start: t.startedAt === null ? null : t.startedAt / 1000,
      acknowledged: t.startedAt !== null && policy?.acksLate === false,
      delivery_info: { exchange: null, routing_key: null, priority: null, redelivered: null },
      worker_pid: t.startedAt === null ? null : process.pid,
    };
  }
}
