/**
 * Beat's lock and state in files, for one machine without Redis (Celery's default keeps its
 * schedule in a local file too). The lock is `<path>.lock` holding `{id, expires}`: created with
 * O_EXCL; a lapsed one is first renamed away (only one process can rename a given file), so one
 * process takes it over; renewed by rewriting it through a rename. The state is `<path>` as JSON
 * `{lastRun, pending, ...}` (with the stored schedules: entries, disabled, version, changes, code),
 * replaced atomically; every change to it (the leader's ticks, another process's schedule change)
 * reads, changes and writes it holding `<path>.mutex` (O_EXCL, a few ms; one older than
 * MUTEX_STALE_MS was left by a dead process and is taken over), so none is lost. A write of the
 * leader checks the lock is still this process's, but unlike Redis the check and the write are
 * separate steps: use the Redis store where processes on several machines, or a leader that may
 * stall for longer than the lock lasts, share a schedule.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { sleep, TimeoutError } from '@nori/core';
import { basename, dirname, join } from 'node:path';
import type { BeatStore } from './beat-store.js';
import { CHANGES_KEPT, type CodeEntry, type ScheduleChange, type StoredEntry, type StoredSchedules } from './stored-entry.js';

interface State {
  lastRun: Record<string, number>;
  pending: Record<string, number>;
  entries: Record<string, StoredEntry>;
  disabled: string[];
  version: number;
  changes: ScheduleChange[];
  code: Record<string, CodeEntry>;
}

const EMPTY: State = { lastRun: {}, pending: {}, entries: {}, disabled: [], version: 0, changes: [], code: {} };

/** A mutex older than this was left by a process that died holding it. */
const MUTEX_STALE_MS = 2000;
/** How long a change waits for the mutex before it fails. */
const MUTEX_WAIT_MS = 10_000;

const missing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';
/** Entry names are data: "__proto__" or "constructor" must be a key like any other. */
const has = (record: object, key: string): boolean => Object.hasOwn(record, key);
const put = <T>(record: Record<string, T>, key: string, value: T): void =>
  void Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });

export class FileBeatStore implements BeatStore {
  readonly #path: string;
  readonly #lock: string;
  readonly #mutex: string;

  constructor(path: string) {
    this.#path = path;
    this.#lock = `${path}.lock`;
    this.#mutex = `${path}.mutex`;
  }

  /** Takes the state file's mutex; resolves with its release. */
  async #acquire(): Promise<() => Promise<void>> {
    const end = Date.now() + MUTEX_WAIT_MS;
    for (;;) {
      try {
        await writeFile(this.#mutex, String(process.pid), { flag: 'wx' });
        return () => rm(this.#mutex, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const since = await stat(this.#mutex).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > MUTEX_STALE_MS) await rm(this.#mutex, { force: true });
      else if (Date.now() > end) throw new TimeoutError(`beat: ${this.#mutex} stayed taken for ${MUTEX_WAIT_MS} ms`);
      else await sleep(5);
    }
  }

  async #readLock(): Promise<{ id: string; expires: number } | null> {
    try {
      return JSON.parse(await readFile(this.#lock, 'utf8')) as { id: string; expires: number };
    } catch (error) {
      if (missing(error) || error instanceof SyntaxError) return null;
      throw error;
    }
  }

  async #replace(path: string, text: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  }

  async lead(me: string, ttl: number): Promise<boolean> {
    const lock = await this.#readLock();
    const body = JSON.stringify({ id: me, expires: Date.now() + ttl });
    if (lock?.id === me) {
      await this.#replace(this.#lock, body);
      return true;
    }
    if (lock && lock.expires > Date.now()) return false;
    if (lock) {
      // Lapsed: whoever renames it away first may try to create the new one.
      try {
        await rename(this.#lock, `${this.#lock}.${randomUUID()}.stale`);
      } catch (error) {
        if (missing(error)) return false;
        throw error;
      }
    }
    try {
      await writeFile(this.#lock, body, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await this.#sweepStale();
    }
  }

  async #sweepStale(): Promise<void> {
    const dir = dirname(this.#lock);
    const prefix = `${basename(this.#lock)}.`;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith(prefix) && name.endsWith('.stale')) await rm(join(dir, name), { force: true });
    }
  }

  async #state(): Promise<State> {
    try {
      return { ...structuredClone(EMPTY), ...(JSON.parse(await readFile(this.#path, 'utf8')) as Partial<State>) };
    } catch (error) {
      if (missing(error)) return structuredClone(EMPTY);
      throw error;
    }
  }

  /** Read, change and write the state, holding the mutex. */
  async #update<T>(change: (state: State) => T): Promise<T> {
    const release = await this.#acquire();
    try {
      const state = await this.#state();
      const result = change(state);
      await this.#replace(this.#path, JSON.stringify(state));
      return result;
    } finally {
      await release();
    }
  }

  async lastRuns(): Promise<Map<string, number>> {
    return new Map(Object.entries((await this.#state()).lastRun));
  }

  async pending(): Promise<Map<string, number>> {
    return new Map(Object.entries((await this.#state()).pending));
  }

  async begin(me: string, entry: string, due: number): Promise<boolean> {
    if ((await this.#readLock())?.id !== me) return false;
    await this.#update((state) => {
      put(state.pending, entry, due);
    });
    return true;
  }

  async commit(entry: string, due: number): Promise<void> {
    await this.#update((state) => {
      if (due > (has(state.lastRun, entry) ? (state.lastRun[entry] as number) : -1)) put(state.lastRun, entry, due);
      if (has(state.pending, entry) && state.pending[entry] === due) delete state.pending[entry];
    });
  }

  async schedulesVersion(): Promise<number> {
    return (await this.#state()).version;
  }

  async schedules(): Promise<StoredSchedules> {
    const state = await this.#state();
    return {
      version: state.version,
      entries: new Map(Object.entries(state.entries)),
      disabled: new Set(state.disabled),
      code: new Map(Object.entries(state.code)),
    };
  }

  #log(state: State, change: ScheduleChange): void {
    state.changes = [change, ...state.changes].slice(0, CHANGES_KEPT);
    state.version++;
  }

  async upsert(name: string, entry: StoredEntry, enabled: boolean | undefined, change: ScheduleChange): Promise<void> {
    await this.#update((state) => {
      put(state.entries, name, entry);
      if (enabled !== undefined) state.disabled = enabled ? state.disabled.filter((n) => n !== name) : [...new Set([...state.disabled, name])];
      this.#log(state, change);
    });
  }

  async remove(name: string, change: ScheduleChange): Promise<boolean> {
    return this.#update((state) => {
      if (!has(state.entries, name)) return false;
      delete state.entries[name];
      if (!has(state.code, name)) {
        state.disabled = state.disabled.filter((n) => n !== name);
        delete state.lastRun[name];
        delete state.pending[name];
      }
      this.#log(state, change);
      return true;
    });
  }

  async setEnabled(name: string, enabled: boolean, change: ScheduleChange): Promise<boolean> {
    return this.#update((state) => {
      if (!has(state.entries, name) && !has(state.code, name)) return false;
      state.disabled = enabled ? state.disabled.filter((n) => n !== name) : [...new Set([...state.disabled, name])];
      this.#log(state, change);
      return true;
    });
  }

  async changes(limit: number): Promise<ScheduleChange[]> {
    return (await this.#state()).changes.slice(0, limit);
  }

  async publishCode(entries: ReadonlyMap<string, CodeEntry>): Promise<void> {
    await this.#update((state) => {
      state.code = Object.fromEntries(entries);
    });
  }

  async resign(me: string): Promise<void> {
    if ((await this.#readLock())?.id === me) await rm(this.#lock, { force: true });
  }

  async clear(): Promise<void> {
    await rm(this.#lock, { force: true });
    await rm(this.#path, { force: true });
    await rm(this.#mutex, { force: true });
  }

  async close(): Promise<void> {}
}
