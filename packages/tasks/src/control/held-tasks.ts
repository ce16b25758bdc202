/**
 * What a worker holds, for `inspect active / reserved / scheduled / query_task`: received →
 * reserved (scheduled while its ETA is ahead), started → active, and gone once its outcome is out.
 * Shapes are Celery's `Request.info()`.
 */
import { unixSeconds } from '../protocol/units.js';
import type { HeldTask } from '../worker/job.js';
import type { Worker } from '../worker/worker.js';

/** One task as inspect shows it (Celery's Request.info()). */
export interface TaskInfo {
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

/**
 * Reads what the worker holds when asked, rather than following each task through its events
 * (three listener calls, two Map writes and an object per task, for a rare command).
 */
export class HeldTasks {
  readonly #worker: Worker;

  constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Tasks started, by name (Celery's `total` in stats). */
  get total(): ReadonlyMap<string, number> {
    return this.#worker.total;
  }

  active(safe = false): TaskInfo[] {
    return [...this.#worker.held].filter((t) => t.startedAt !== null).map((t) => this.#info(t, safe));
  }

  /** Received, not started, not waiting for an ETA. */
  reserved(): TaskInfo[] {
    const now = Date.now();
    return [...this.#worker.held].filter((t) => t.startedAt === null && !(t.request.eta && t.request.eta.getTime() > now)).map((t) => this.#info(t, false));
  }

  /** Waiting for their ETA (Celery's timer entries). */
  scheduled(): Array<{ eta: string; priority: number; request: TaskInfo }> {
    const now = Date.now();
    return [...this.#worker.held]
      .filter((t) => t.startedAt === null && t.request.eta && t.request.eta.getTime() > now)
      .map((t) => ({ eta: (t.request.eta as Date).toISOString(), priority: 6, request: this.#info(t, false) }));
  }

  /** Celery's query_task: id → [state, info] for the ids held here. */
  query(ids: readonly string[]): Record<string, [string, TaskInfo]> {
    const out: Record<string, [string, TaskInfo]> = {};
    const held = new Map([...this.#worker.held].map((t) => [t.request.id, t]));
    for (const id of ids) {
      const t = held.get(id);
      if (t) out[id] = [t.startedAt === null ? 'reserved' : 'active', this.#info(t, false)];
    }
    return out;
  }

  #info(t: HeldTask, safe: boolean): TaskInfo {
    const r = t.request;
    return {
      id: r.id,
      name: r.name,
      args: safe ? r.argsrepr : r.args,
      kwargs: safe ? r.kwargsrepr : r.kwargs,
      type: r.name,
      hostname: this.#worker.hostname,
      time_start: t.startedAt === null ? null : unixSeconds(t.startedAt),
      acknowledged: t.startedAt !== null && t.acksEarly,
      delivery_info: { exchange: null, routing_key: null, priority: null, redelivered: null },
      worker_pid: t.startedAt === null ? null : process.pid,
    };
  }
}
