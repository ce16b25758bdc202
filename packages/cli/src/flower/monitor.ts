/**
 * What the monitoring server knows from events: @nori/tasks' EventState (an LRU of tasks, workers
 * with heartbeats) plus the fields Flower shows that the state does not keep (event times per
 * state, eta, expires, exchange, routing key, clock), bounded by the same LRU; Flower's metrics;
 * and the live listeners of the page.
 */
import { EventState, type CeleryEvent, type TaskSnapshot } from '@nori/tasks/events';
import { Metrics } from './metrics.js';

/** Celery's task fields, in Celery's order (celery/events/state.py Task._fields). */
export interface FlowerTask {
  uuid: string;
  name: string | null;
  state: string;
  received: number | null;
  sent: number | null;
  started: number | null;
  rejected: number | null;
  succeeded: number | null;
  failed: number | null;
  retried: number | null;
  revoked: number | null;
  args: string | null;
  kwargs: string | null;
  eta: string | null;
  expires: string | null;
  retries: number | null;
  worker: string | null;
  result: string | null;
  exception: string | null;
  timestamp: number | null;
  runtime: number | null;
  traceback: string | null;
  exchange: string | null;
  routing_key: string | null;
  clock: number | null;
  client: string | null;
  root: string | null;
  root_id: string | null;
  parent: string | null;
  parent_id: string | null;
  children: string[];
  /** nori's, not Celery's: the meta of the state the task last reported (a task-progress event). */
  meta: unknown;
}

/** The event type → the time field it sets (Celery's). */
const TIME_FIELD: Readonly<Record<string, keyof Extras>> = {
  'task-sent': 'sent',
  'task-received': 'received',
  'task-started': 'started',
  'task-succeeded': 'succeeded',
  'task-failed': 'failed',
  'task-retried': 'retried',
  'task-revoked': 'revoked',
  'task-rejected': 'rejected',
};

interface Extras {
  sent?: number;
  received?: number;
  started?: number;
  succeeded?: number;
  failed?: number;
  retried?: number;
  revoked?: number;
  rejected?: number;
  timestamp?: number;
  clock?: number;
  eta?: string;
  expires?: string;
  exchange?: string;
  routing_key?: string;
  client?: string;
  children: Set<string>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** States of a task that has not started: a revoke means it will not run. */
const WAITING = new Set(['PENDING', 'RECEIVED', 'RETRY']);

export class Monitor {
  readonly state: EventState;
  readonly metrics = new Metrics();
  readonly #extras = new Map<string, Extras>();
  readonly #listeners = new Set<(e: CeleryEvent) => void>();
  /** Ids revoked on the mailbox (revoke-watch.ts), oldest first, at most maxTasks. */
  readonly #revokes = new Set<string>();

  constructor(maxTasks = 10_000) {
    this.state = new EventState({ maxTasks });
  }

  event = (e: CeleryEvent): void => {
    this.state.event(e);
    let extras: Extras | undefined;
    if (e.type.startsWith('task-') && typeof e.uuid === 'string') {
      extras = this.#extras.get(e.uuid);
      if (!extras) this.#extras.set(e.uuid, (extras = { children: new Set() }));
      const field = TIME_FIELD[e.type];
      if (field) (extras as unknown as Record<string, number>)[field] = e.timestamp;
      extras.timestamp = e.timestamp;
      extras.clock = e.clock;
      extras.eta = str(e['eta']) ?? extras.eta;
      extras.expires = str(e['expires']) ?? extras.expires;
      extras.exchange = str(e['exchange']) ?? extras.exchange;
      extras.routing_key = str(e['routing_key']) ?? extras.routing_key;
      if (e.type === 'task-sent') extras.client = e.hostname;
      const parent = str(e['parent_id']);
      if (parent && parent !== e.uuid) this.#extras.get(parent)?.children.add(e.uuid);
      this.#sweep();
    }
    const name = (typeof e.uuid === 'string' ? this.state.task(e.uuid)?.name : undefined) ?? '';
    this.metrics.event(e, name, extras);
    for (const listener of this.#listeners) listener(e);
  };

  /**
   * Revoke commands seen: a task not started yet will not run, so it shows REVOKED now (with the
   * time) rather than RECEIVED until a worker meets it again. The listeners get a task-revoked
   * for it; the state and the metrics count only what workers report.
   */
  revoked = (ids: readonly string[]): void => {
    const now = Date.now() / 1000;
    for (const id of ids) {
      this.#revokes.delete(id);
      this.#revokes.add(id);
      if (this.#revokes.size > this.state.maxTasks) this.#revokes.delete(this.#revokes.values().next().value!);
      const t = this.state.task(id);
      if (!t || !WAITING.has(t.state)) continue;
      const extras = this.#extras.get(id);
      if (extras && extras.revoked === undefined) extras.revoked = now;
      const event: CeleryEvent = {
        type: 'task-revoked',
        uuid: id,
        hostname: t.hostname ?? '',
        timestamp: now,
        utcoffset: 0,
        pid: 0,
        clock: 0,
        requested: true,
      };
      for (const listener of this.#listeners) listener(event);
    }
  };

  /** Extras of tasks the LRU dropped go too (checked in batches, not on every event). */
  #sweep(): void {
    if (this.#extras.size <= this.state.maxTasks + 1000) return;
    for (const id of this.#extras.keys()) if (!this.state.tasks.has(id)) this.#extras.delete(id);
  }

  listen(fn: (e: CeleryEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Every task known, most recently updated first, as Flower's dicts. */
  tasks(): FlowerTask[] {
    return [...this.state.tasks.values()].reverse().map((t) => this.task(t));
  }

  /** Flower's dict of a task (`Task.as_dict()` with the worker as its hostname). */
  task(t: TaskSnapshot): FlowerTask {
    const x = this.#extras.get(t.uuid) ?? { children: new Set<string>() };
    return {
      uuid: t.uuid,
      name: t.name ?? null,
      state: this.#revokes.has(t.uuid) && WAITING.has(t.state) ? 'REVOKED' : t.state,
      received: x.received ?? null,
      sent: x.sent ?? null,
      started: x.started ?? null,
      rejected: x.rejected ?? null,
      succeeded: x.succeeded ?? null,
      failed: x.failed ?? null,
      retried: x.retried ?? null,
      revoked: x.revoked ?? null,
      args: t.args ?? null,
      kwargs: t.kwargs ?? null,
      eta: x.eta ?? null,
      expires: x.expires ?? null,
      retries: t.retries ?? null,
      worker: t.hostname ?? null,
      result: t.result ?? null,
      exception: t.exception ?? null,
      timestamp: x.timestamp ?? null,
      runtime: t.runtime ?? null,
      traceback: t.traceback ?? null,
      exchange: x.exchange ?? null,
      routing_key: x.routing_key ?? null,
      clock: x.clock ?? null,
      client: x.client ?? null,
      root: t.rootId ?? null,
      root_id: t.rootId ?? null,
      parent: t.parentId ?? null,
      parent_id: t.parentId ?? null,
      children: [...x.children],
      meta: t.meta ?? null,
    };
  }
}
