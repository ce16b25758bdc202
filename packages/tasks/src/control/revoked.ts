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

const monotonicSeconds = (): number => Number(process.hrtime.bigint()) / 1e9;
/** Celery refuses an int timestamp (LimitedSet.update wants a float): JSON writes 12.0 as 12. */
const pythonFloat = (seconds: number): number => (Number.isInteger(seconds) ? seconds + 1e-6 : seconds);

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

  /**
   * The set as Celery's LimitedSet._data, what mingle's `hello` exchanges: `{id: [inserted, id]}`
   * with `inserted` on Python's time.monotonic() (Linux's CLOCK_MONOTONIC, which Node's hrtime
   * reads too), so a Python peer on the host ages the ids as its own.
   */
  toCelery(now = Date.now()): Record<string, [number, string]> {
    this.purge(now);
    const mono = monotonicSeconds();
    return Object.fromEntries([...this.#ids].map(([id, at]) => [id, [pythonFloat(mono - (now - at) / 1000), id]]));
  }

  /** Adds a peer's ids sent as Celery's LimitedSet._data (`{id: [inserted, id]}` or `{id: inserted}`, monotonic seconds). */
  mergeCelery(data: unknown, now = Date.now()): void {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return;
    const mono = monotonicSeconds();
    const merged = new Map(this.#ids);
    for (const [id, entry] of Object.entries(data)) {
      const inserted: unknown = Array.isArray(entry) ? entry[0] : entry;
      if (typeof inserted !== 'number' || !Number.isFinite(inserted)) continue;
      const at = Math.min(now, now - (mono - inserted) * 1000);
      if (!(at <= (merged.get(id) ?? -Infinity))) merged.set(id, at);
    }
    // A peer's ids are older than some of ours: purge reads the map oldest first.
    this.#ids.clear();
    for (const [id, at] of [...merged].sort((x, y) => x[1] - y[1])) this.#ids.set(id, at);
    this.purge(now);
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
