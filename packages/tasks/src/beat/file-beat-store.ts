/**
 * Beat's lock and state in files, for one machine without Redis (Celery's default keeps its
 * schedule in a local file too). The lock is `<path>.lock` holding `{id, expires}`: created with
 * O_EXCL; a lapsed one is first renamed away (only one process can rename a given file), so one
 * process takes it over; renewed by rewriting it through a rename. The state is `<path>` as JSON
 * `{lastRun, pending}`, replaced atomically. Every write checks the lock is still this process's,
 * but unlike Redis the check and the write are separate steps: use the Redis store where processes
 * on several machines, or a leader that may stall for longer than the lock lasts, share a schedule.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BeatStore } from './beat-store.js';

interface State {
  lastRun: Record<string, number>;
  pending: Record<string, number>;
}

const missing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

export class FileBeatStore implements BeatStore {
  readonly #path: string;
  readonly #lock: string;

  constructor(path: string) {
    this.#path = path;
    this.#lock = `${path}.lock`;
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
      const s = JSON.parse(await readFile(this.#path, 'utf8')) as Partial<State>;
      return { lastRun: s.lastRun ?? {}, pending: s.pending ?? {} };
    } catch (error) {
      if (missing(error)) return { lastRun: {}, pending: {} };
      throw error;
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
    const state = await this.#state();
    state.pending[entry] = due;
    await this.#replace(this.#path, JSON.stringify(state));
    return true;
  }

  async commit(entry: string, due: number): Promise<void> {
    const state = await this.#state();
    if (due > (state.lastRun[entry] ?? -1)) state.lastRun[entry] = due;
    if (state.pending[entry] === due) delete state.pending[entry];
    await this.#replace(this.#path, JSON.stringify(state));
  }

  async resign(me: string): Promise<void> {
    if ((await this.#readLock())?.id === me) await rm(this.#lock, { force: true });
  }

  async clear(): Promise<void> {
    await rm(this.#lock, { force: true });
    await rm(this.#path, { force: true });
  }

  async close(): Promise<void> {}
}
