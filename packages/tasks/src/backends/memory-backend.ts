/**
 * `memory://` results: in this process only, shared by every App that names the same URL (as the
 * memory broker is), stored encoded so a result reads back exactly as from a real backend.
 * Expiry (resultExpires) is applied when a result is read, and by a sweep every 1000 writes.
 */
import type { BackendHost, ResultBackend, ResultOrigin, StoredResult } from './backend.js';
import { ResultCodec } from './result-codec.js';
import { pendingResult, toTaskMeta } from '../protocol/task-meta.js';
import type { TaskState } from '../states.js';
import { closingController, waitForReady, type WaitOptions } from './wait-ready.js';

interface Entry {
  data: Uint8Array;
  state: TaskState;
  expiresAt: number;
}

/** Expired results nobody read are dropped every this many writes. */
const SWEEP_EVERY = 1000;

class MemoryResults {
  readonly entries = new Map<string, Entry>();
  readonly watchers = new Map<string, Set<(data: Uint8Array) => void>>();
  #writes = 0;

  set(taskId: string, entry: Entry): void {
    this.entries.set(taskId, entry);
    if (++this.#writes % SWEEP_EVERY !== 0) return;
    const now = Date.now();
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id);
  }
}

const stores = new Map<string, MemoryResults>();

export class MemoryBackend implements ResultBackend {
  readonly #store: MemoryResults;
  readonly #codec: ResultCodec;
  readonly #closing = closingController();

  constructor(
    url: string,
    private readonly host: Pick<BackendHost, 'resultExpires' | 'resultSerializer'>,
  ) {
    let store = stores.get(url);
    if (!store) stores.set(url, (store = new MemoryResults()));
    this.#store = store;
    this.#codec = new ResultCodec(host.resultSerializer);
  }

  storeResult(taskId: string, state: TaskState, result: unknown, options: { traceback?: string | null; origin?: ResultOrigin } = {}): Promise<void> {
    // Celery: once a task has a stored SUCCESS, later writes for it are ignored.
    if (this.#live(taskId)?.state === 'SUCCESS') return Promise.resolve();
    const data = this.#codec.encode(toTaskMeta(taskId, state, result, options.traceback ?? null));
    const ttl = this.host.resultExpires;
    this.#store.set(taskId, { data, state, expiresAt: ttl > 0 ? Date.now() + ttl : Infinity });
    for (const watcher of this.#store.watchers.get(taskId) ?? []) watcher(data);
    return Promise.resolve();
  }

  #live(taskId: string): Entry | undefined {
    const entry = this.#store.entries.get(taskId);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#store.entries.delete(taskId);
      return undefined;
    }
    return entry;
  }

  getResult(taskId: string): Promise<StoredResult> {
    const entry = this.#live(taskId);
    return Promise.resolve(entry ? this.#codec.decode(entry.data, taskId) : pendingResult(taskId));
  }

  waitFor(taskId: string, options: WaitOptions = {}): Promise<StoredResult> {
    const watch = (onUpdate: (read: () => StoredResult) => void): Promise<() => void> => {
      const { watchers } = this.#store;
      let set = watchers.get(taskId);
      if (!set) watchers.set(taskId, (set = new Set()));
      const watcher = (data: Uint8Array): void => onUpdate(() => this.#codec.decode(data, taskId));
      set.add(watcher);
      return Promise.resolve(() => {
        set.delete(watcher);
        if (set.size === 0) watchers.delete(taskId);
      });
    };
    return waitForReady(taskId, options, this.#closing.signal, watch, () => this.getResult(taskId));
  }

  forget(taskId: string): Promise<void> {
    this.#store.entries.delete(taskId);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closing.abort();
    return Promise.resolve();
  }
}
