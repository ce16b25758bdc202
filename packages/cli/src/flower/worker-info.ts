/**
 * `/api/workers` as Flower builds it (flower/inspector.py): per worker, the replies of inspect
 * stats, active_queues, registered, scheduled, active, reserved, revoked and conf, plus the time
 * they were gathered. Cached; gathered again on `refresh` or when events show a worker not in it.
 * A worker's conf is censored again here (passwords, secrets), whatever the worker sent.
 */
import type { App } from '@nori/tasks';
import { censorSettings, type Inspect, type Replies } from '@nori/tasks/control';
import { unixSeconds } from '@nori/tasks/protocol';
import type { Monitor } from './monitor.js';

const METHODS: ReadonlyArray<[string, (i: Inspect) => Promise<Replies>]> = [
  ['stats', (i) => i.stats()],
  ['active_queues', (i) => i.activeQueues()],
  ['registered', (i) => i.registered()],
  ['scheduled', (i) => i.scheduled()],
  ['active', (i) => i.active()],
  ['reserved', (i) => i.reserved()],
  ['revoked', (i) => i.revoked()],
  ['conf', (i) => i.conf()],
];

export type WorkerDetails = Record<string, Record<string, unknown>>;

export class WorkerInfo {
  readonly #app: App;
  readonly #monitor: Monitor;
  readonly #timeout: number;
  #cache: WorkerDetails = {};
  #pending: Promise<WorkerDetails> | undefined;

  constructor(app: App, monitor: Monitor, timeout: number) {
    this.#app = app;
    this.#monitor = monitor;
    this.#timeout = timeout;
  }

  async get(refresh = false): Promise<WorkerDetails> {
    const stale = [...this.#monitor.state.workers.keys()].some((h) => !(h in this.#cache));
    if (refresh || stale || Object.keys(this.#cache).length === 0) this.#cache = await this.#gather();
    return this.#cache;
  }

  /** A worker seen in events or in the last gathering (Flower's is_worker). */
  knows(name: string): boolean {
    return this.#monitor.state.workers.has(name) || name in this.#cache;
  }

  /** Names of the queues workers consume (from active_queues). */
  async queueNames(): Promise<string[]> {
    const names: string[] = [];
    for (const w of Object.values(await this.get())) {
      for (const q of (w['active_queues'] as Array<{ name?: unknown }> | undefined) ?? []) if (typeof q.name === 'string') names.push(q.name);
    }
    return names;
  }

  /** One gathering at a time: concurrent requests share it. */
  #gather(): Promise<WorkerDetails> {
    this.#pending ??= (async () => {
      const inspect = this.#app.control.inspect({ timeout: this.#timeout });
      const replies = await Promise.all(METHODS.map(([, call]) => call(inspect).catch(() => null)));
      const out: WorkerDetails = {};
      const now = unixSeconds();
      METHODS.forEach(([name], i) => {
        for (const [host, reply] of Object.entries(replies[i] ?? {})) {
          (out[host] ??= {})[name] = name === 'conf' && typeof reply === 'object' && reply !== null ? censorSettings(reply as Record<string, unknown>) : reply;
          out[host]['timestamp'] = now;
        }
      });
      return out;
    })().finally(() => (this.#pending = undefined));
    return this.#pending;
  }
}
