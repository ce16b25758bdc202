/**
 * What the page keeps from the server-sent events (`/dashboard/events`, the Celery events the
 * server receives): the workers with their last heartbeat, the tasks finished per second for the
 * chart, and the views listening for what concerns them.
 */
export interface LiveEvent {
  type: string;
  hostname: string;
  timestamp: number;
  uuid?: string;
  [field: string]: unknown;
}

export interface LiveWorker {
  hostname: string;
  online: boolean;
  /** Heartbeat interval, s. */
  freq: number;
  /** When the last event came (ms). */
  seen: number;
  active?: number;
  processed?: number;
  loadavg?: number[];
  sw?: string;
}

export class Live {
  readonly workers = new Map<string, LiveWorker>();
  /** Tasks finished, by UNIX second. */
  readonly finished = new Map<number, number>();
  readonly #listeners = new Set<(e: LiveEvent) => void>();

  /** Connects; `status` says whether the stream is up. */
  connect(status: HTMLElement): void {
    const source = new EventSource('/dashboard/events');
    source.onmessage = (m: MessageEvent<string>) => this.#event(JSON.parse(m.data) as LiveEvent);
    source.onopen = () => (status.textContent = 'live');
    source.onerror = () => (status.textContent = 'reconnecting…');
  }

  on(listener: (e: LiveEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Online while heartbeats come (Celery's rule: within twice the interval). */
  alive(w: LiveWorker): boolean {
    return w.online && Date.now() - w.seen <= w.freq * 2000;
  }

  seed(w: LiveWorker): void {
    this.workers.set(w.hostname, w);
  }

  #event(e: LiveEvent): void {
    if (e.type.startsWith('worker-')) {
      const w = this.workers.get(e.hostname) ?? { hostname: e.hostname, online: false, freq: 2, seen: 0 };
      if (typeof e['freq'] === 'number') w.freq = e['freq'];
      if (typeof e['active'] === 'number') w.active = e['active'];
      if (typeof e['processed'] === 'number') w.processed = e['processed'];
      if (Array.isArray(e['loadavg'])) w.loadavg = e['loadavg'] as number[];
      if (typeof e['sw_ident'] === 'string') w.sw = e['sw_ident'];
      w.online = e.type !== 'worker-offline';
      w.seen = Date.now();
      this.workers.set(e.hostname, w);
    } else if (e.type === 'task-succeeded' || e.type === 'task-failed') {
      const second = Math.floor(Date.now() / 1000);
      this.finished.set(second, (this.finished.get(second) ?? 0) + 1);
      for (const k of this.finished.keys()) if (k < second - 120) this.finished.delete(k);
    }
    for (const listener of this.#listeners) listener(e);
  }
}
