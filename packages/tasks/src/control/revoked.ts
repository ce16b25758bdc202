/**
 * The ids a worker was told to revoke (Celery's `worker_state.revoked`, a LimitedSet): at most
 * `maxSize` ids, each kept `expires` ms (Celery's 50 000 and 3 h); the oldest go first. With a
 * state file (Celery's `--statedb`; JSON here, never pickle) they survive a restart.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

export interface RevokedOptions {
  /** Default 50 000 (Celery's REVOKES_MAX). */
  maxSize?: number;
  /** Ms an id is kept. Default 10 800 000 (Celery's REVOKE_EXPIRES, 3 h). */
  expires?: number;
}

export class RevokedSet {
  readonly maxSize: number;
  readonly expires: number;
  /** id → when it was revoked (ms); Map order is insertion order, oldest first. */
  readonly #ids = new Map<string, number>();

  constructor(options: RevokedOptions = {}) {
    this.maxSize = options.maxSize ?? 50_000;
    this.expires = options.expires ?? 10_800_000;
  }

  add(id: string, at = Date.now()): void {
    this.#ids.delete(id);
    this.#ids.set(id, at);
    this.purge(at);
  }

  has(id: string, now = Date.now()): boolean {
    const at = this.#ids.get(id);
    return at !== undefined && now - at < this.expires;
  }

  /** Drops expired ids and, past maxSize, the oldest. */
  purge(now = Date.now()): void {
    for (const [id, at] of this.#ids) {
      if (this.#ids.size <= this.maxSize && now - at < this.expires) break;
      this.#ids.delete(id);
    }
  }

  get size(): number {
    return this.#ids.size;
  }

  ids(): string[] {
    this.purge();
    return [...this.#ids.keys()];
  }

  /** Adds the ids a state file holds (none when it does not exist yet). */
  async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const data = JSON.parse(text) as { revoked?: Record<string, number> };
    for (const [id, at] of Object.entries(data.revoked ?? {})) if (typeof at === 'number') this.add(id, at);
  }

  /** Writes the ids (and when they were revoked) to the state file, atomically. */
  async save(file: string): Promise<void> {
    this.purge();
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ revoked: Object.fromEntries(this.#ids) }));
    await rename(tmp, file);
  }
}
