/**
 * The `memory://` store: process-wide, like kombu's memory transport, so every Connection in the
 * process sees the same queues. Unlike kombu's it has priorities, per-message TTL, queue expiry,
 * max length, delayed messages and in-flight leases.
 */
import type { Envelope } from '../envelope.js';
import { setLongTimeout, type LongTimeout } from '../../long-timer.js';
import type { Claimed, PutOptions, PutReport, RestorePosition, Store, StoreCapabilities, StoredBinding } from '../store.js';
import type { ExchangeSpec, QueueSpec } from '../../topology.js';

interface Entry {
  readonly tag: string;
  envelope: Envelope;
  readonly priority: number | undefined;
  readonly readyAt?: number;
  readonly expiresAt?: number;
  deliveryCount: number;
  lapses: number;
}

interface Leased {
  readonly entry: Entry;
  leaseUntil: number;
}

/** Claim tokens: unique per claim in the process, which is all a process-local store needs. */
let claims = 0;

class MemoryQueue {
  spec: QueueSpec | undefined;
  /** priority → FIFO of ready entries; `order` keeps the non-empty priorities, highest first. */
  readonly buckets = new Map<number, Entry[]>();
  order: number[] = [];
  delayed: Entry[] = [];
  /** By claim token. */
  readonly inFlight = new Map<string, Leased>();
  readonly waiters = new Set<() => void>();
  expiryTimer: LongTimeout | undefined;

  constructor(readonly name: string) {}

  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.length;
    return n;
  }

  push(entry: Entry, position: RestorePosition): void {
    const priority = this.spec?.maxPriority === undefined ? 0 : Math.min(entry.priority ?? 0, this.spec.maxPriority);
    let bucket = this.buckets.get(priority);
    if (!bucket) {
      this.buckets.set(priority, (bucket = []));
      this.order = [...this.buckets.keys()].sort((a, b) => b - a);
    }
    if (position === 'back') bucket.push(entry);
    else bucket.unshift(entry);
  }

  /** A publish: refused when full and reject-publish, else pushed, dropping (and returning) the oldest beyond maxLength. */
  publish(entry: Entry): { refused: boolean; dropped: Envelope[] } {
    const max = this.spec?.maxLength;
    if (max !== undefined && this.spec?.overflow === 'reject-publish' && this.size >= max) return { refused: true, dropped: [] };
    this.push(entry, 'back');
    const dropped: Envelope[] = [];
    while (max !== undefined && this.size > max) dropped.push((this.shift() as Entry).envelope);
    return { refused: false, dropped };
  }

  shift(): Entry | undefined {
    for (const priority of this.order) {
      const bucket = this.buckets.get(priority) as Entry[];
      const entry = bucket.shift();
      if (bucket.length === 0) {
        this.buckets.delete(priority);
        this.order = this.order.filter((p) => p !== priority);
      }
      if (entry) return entry;
    }
    return undefined;
  }

  promoteDue(now: number): void {
    while (this.delayed.length > 0 && (this.delayed[0] as Entry).readyAt! <= now) this.push(this.delayed.shift() as Entry, 'back');
  }

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

class MemoryState {
  readonly exchanges = new Map<string, ExchangeSpec>();
  readonly bindings = new Map<string, StoredBinding[]>();
  readonly queues = new Map<string, MemoryQueue>();

  queue(name: string): MemoryQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = new MemoryQueue(name)));
    return q;
  }

  deleteQueue(name: string): void {
    const q = this.queues.get(name);
    q?.expiryTimer?.clear();
    this.queues.delete(name);
    for (const [exchange, list] of this.bindings)
      this.bindings.set(
        exchange,
        list.filter((b) => b.queue !== name),
      );
  }

  /** Queue expiry: deleted once unused (no waiting consumer, no claim, no redeclare) for `expires` ms. */
  touch(q: MemoryQueue): void {
    const expires = q.spec?.expires;
    if (expires === undefined) return;
    q.expiryTimer?.clear();
    q.expiryTimer = setLongTimeout(() => {
      if (q.waiters.size > 0 || q.inFlight.size > 0) this.touch(q);
      else if (this.queues.get(q.name) === q) this.deleteQueue(q.name);
    }, expires);
    q.expiryTimer.unref();
  }
}

const STATE = Symbol.for('nori.memory.state');
const globalState = globalThis as typeof globalThis & { [STATE]?: MemoryState };

function state(): MemoryState {
  return (globalState[STATE] ??= new MemoryState());
}

const CAPABILITIES: StoreCapabilities = {
  headersExchange: true,
  priorities: true,
  messageTtl: true,
  queueExpires: true,
  maxLength: true,
  nativeDelay: true,
  redeliversOnCrash: false,
  processLocal: true,
};

function markRedelivered(entry: Entry): void {
  const p = entry.envelope.properties;
  entry.envelope = { ...entry.envelope, properties: { ...p, delivery_info: { ...p.delivery_info, redelivered: true } } };
}

export class MemoryStore implements Store {
  readonly capabilities = CAPABILITIES;
  readonly #state = state();

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  /** Nothing here talks to a server: a failure is a bug, reported as it is. */
  classifyError(error: unknown): Error {
    return error instanceof Error ? error : new Error(String(error));
  }

  async declareExchange(exchange: ExchangeSpec): Promise<void> {
    this.#state.exchanges.set(exchange.name, exchange);
  }
  async getExchange(name: string): Promise<ExchangeSpec | undefined> {
    return this.#state.exchanges.get(name);
  }
  async deleteExchange(name: string): Promise<void> {
    this.#state.exchanges.delete(name);
    this.#state.bindings.delete(name);
  }

  async declareQueue(spec: QueueSpec): Promise<void> {
    const q = this.#state.queue(spec.name);
    q.spec = spec;
    this.#state.touch(q);
  }
  async queueExists(name: string): Promise<boolean> {
    return this.#state.queues.has(name);
  }
  async deleteQueue(name: string): Promise<void> {
    this.#state.deleteQueue(name);
  }

  async bind(exchange: string, binding: StoredBinding): Promise<void> {
    const list = this.#state.bindings.get(exchange) ?? [];
    const same = (b: StoredBinding): boolean =>
      b.queue === binding.queue && b.routingKey === binding.routingKey && JSON.stringify(b.arguments) === JSON.stringify(binding.arguments);
    if (!list.some(same)) this.#state.bindings.set(exchange, [...list, binding]);
  }
  async unbind(exchange: string, binding: StoredBinding): Promise<void> {
    const list = this.#state.bindings.get(exchange) ?? [];
    this.#state.bindings.set(
      exchange,
      list.filter((b) => !(b.queue === binding.queue && b.routingKey === binding.routingKey)),
    );
  }
  async bindings(exchange: string): Promise<StoredBinding[]> {
    return this.#state.bindings.get(exchange) ?? [];
  }

  async put(queue: string, envelope: Envelope, options: PutOptions): Promise<PutReport> {
    const q = this.#state.queue(queue);
    const entry: Entry = {
      tag: envelope.properties.delivery_tag,
      envelope,
      priority: options.priority,
      ...(options.readyAt !== undefined && { readyAt: options.readyAt }),
      ...(options.expiresAt !== undefined && { expiresAt: options.expiresAt }),
      deliveryCount: 0,
      lapses: 0,
    };
    let report: PutReport = { refused: [], dropped: [] };
    // Delayed messages are not ready, so they count towards maxLength only once due.
    if (options.readyAt !== undefined && options.readyAt > Date.now()) {
      q.delayed.push(entry);
      q.delayed.sort((a, b) => a.readyAt! - b.readyAt!);
    } else {
      const { refused, dropped } = q.publish(entry);
      report = { refused: refused ? [0] : [], dropped };
    }
    // A publish is no use of the queue (RabbitMQ's x-expires rule): only declares and claims renew it.
    q.wake();
    return report;
  }

  async claim(queue: string, max: number, leaseMs: number): Promise<Claimed[]> {
    const q = this.#state.queues.get(queue);
    if (!q) return [];
    const now = Date.now();
    q.promoteDue(now);
    const claimed: Claimed[] = [];
    while (claimed.length < max) {
      const entry = q.shift();
      if (!entry) break;
      const token = `claim-${++claims}`;
      q.inFlight.set(token, { entry, leaseUntil: now + leaseMs });
      claimed.push({
        queue,
        envelope: entry.envelope,
        tag: entry.tag,
        token,
        deliveryCount: entry.deliveryCount++,
        lapses: entry.lapses,
        ...(entry.expiresAt !== undefined && { expiresAt: entry.expiresAt }),
      });
    }
    this.#state.touch(q);
    return claimed;
  }

  wait(queues: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const targets = queues.map((name) => this.#state.queue(name));
    const now = Date.now();
    let timeout = timeoutMs;
    for (const q of targets) {
      if (q.size > 0) return Promise.resolve();
      const due = q.delayed[0]?.readyAt;
      if (due !== undefined) timeout = Math.min(timeout, Math.max(0, due - now));
    }
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        for (const q of targets) q.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeout);
      signal.addEventListener('abort', done, { once: true });
      for (const q of targets) q.waiters.add(done);
    });
  }

  async ack(queue: string, tokens: readonly string[]): Promise<number> {
    const q = this.#state.queues.get(queue);
    if (!q) return 0;
    let held = 0;
    for (const token of tokens) if (q.inFlight.delete(token)) held++;
    return held;
  }

  async renew(queue: string, tokens: readonly string[], leaseMs: number): Promise<void> {
    const q = this.#state.queues.get(queue);
    if (!q) return;
    const until = Date.now() + leaseMs;
    for (const token of tokens) {
      const leased = q.inFlight.get(token);
      if (leased) leased.leaseUntil = until;
    }
  }

  async restore(queue: string, tokens: readonly string[], position: RestorePosition): Promise<number> {
    const q = this.#state.queues.get(queue);
    if (!q) return 0;
    let restored = 0;
    // For 'front', restore in reverse so the messages end up first in the order given.
    for (const token of position === 'front' ? [...tokens].reverse() : tokens) {
      const leased = q.inFlight.get(token);
      if (!leased) continue;
      q.inFlight.delete(token);
      markRedelivered(leased.entry);
      q.push(leased.entry, position);
      restored++;
    }
    q.wake();
    return restored;
  }

  async restoreLapsed(): Promise<number> {
    const now = Date.now();
    let restored = 0;
    for (const q of this.#state.queues.values()) {
      const lapsed = [...q.inFlight].filter(([, l]) => l.leaseUntil < now).map(([token]) => token);
      if (lapsed.length === 0) continue;
      for (const token of lapsed) (q.inFlight.get(token) as Leased).entry.lapses++;
      restored += await this.restore(q.name, lapsed, 'front');
    }
    return restored;
  }

  async purge(queue: string): Promise<number> {
    const q = this.#state.queues.get(queue);
    if (!q) return 0;
    const n = q.size + q.delayed.length;
    q.buckets.clear();
    q.order = [];
    q.delayed = [];
    return n;
  }

  async size(queue: string): Promise<number> {
    const q = this.#state.queues.get(queue);
    if (!q) return 0;
    q.promoteDue(Date.now());
    return q.size;
  }
}

export const createMemoryStore = (): Store => new MemoryStore();
