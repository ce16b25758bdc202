/**
 * Beat: sends scheduled tasks. Any number of beat processes may run; one leads (a Redis lock with
 * an expiry, renewed every tick) and sends, the others wait to take over when the leader's lock
 * lapses. Each tick has a task id derived from the entry and its due time, is marked in Redis before
 * it is sent and committed after, so a new leader finishes a tick its predecessor died in the middle
 * of (same id) and never sends one that was committed. Missed ticks (downtime, a fail-over) run
 * once, at the latest due time, unless the entry says `missed: 'all'`. Entries come from code (the
 * `schedule` option) and from the store (`beat.schedules`, changed at run time): the leader reads
 * the store's schedule version each tick and reloads the entries when it moved. A tick whose send fails (an
 * argument that cannot be encoded, a once-task still queued, a refused publish) is reported with
 * the entry it belongs to and counted as run, as Celery's beat logs it and goes on: it never holds
 * up the entries after it, nor is it retried every check.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Emitter, setLongTimeout, type LongTimeout, type Logger } from '@nori/core';
import { TaskConfigError } from '../errors.js';
import { firstUrl, isMongoUrl, isRedisClusterUrl, isRedisUrl } from '../protocol/broker-url.js';
import type { ApplyOptions } from '../task.js';
import { RedisBeatStore, type BeatStore } from './beat-store.js';
import type { BeatEntry } from './entry.js';
import { FileBeatStore } from './file-beat-store.js';
import { MongoBeatStore } from './mongo-beat-store.js';
import { BeatSchedules } from './schedules.js';
import { fromStoredEntry, type CodeEntry } from './stored-entry.js';

export type { BeatEntry } from './entry.js';

export interface BeatOptions {
  /** Entries by name (Celery's beat_schedule); the stored ones (`beat.schedules`) run beside them. Default none. */
  schedule?: Readonly<Record<string, BeatEntry>>;
  /**
   * Where the lock, the last runs and the stored entries live: a Redis URL (default the result
   * backend's, else the broker's, when Redis), a MongoDB URL (default the result backend's when
   * MongoDB and no Redis is given), or `{ file }` for files on this machine.
   */
  store?: string | { file: string };
  /** Beats with the same name share a lock and state. Default 'default'. */
  name?: string;
  /** Leader lock lifetime, ms: a dead leader is replaced within it. Default 5000. */
  lockTtl?: number;
  /** How often the schedule is checked (and the lock renewed), ms. Default 200. */
  interval?: number;
}

export interface TickInfo {
  entry: string;
  task: string;
  /** The due time this tick is for. */
  due: Date;
  taskId: string;
}

export type BeatEvents = {
  /** A tick was sent by this process. */
  'tick-sent': [tick: TickInfo];
  /** After the first check, whether this process leads; then each time it becomes (true) or stops being (false) the leader. */
  leader: [leading: boolean];
  /** The leader (re)loaded the stored entries (at the start of its lead, and after each change): what it runs now. */
  schedules: [loaded: { version: number; entries: readonly string[] }];
  /** Something failed; `tick` is set when it was sending that tick (which is then skipped). */
  error: [error: Error, tick?: TickInfo];
};

/** What beat needs from its App. */
export interface BeatHost {
  readonly conf: { readonly broker: string | readonly string[]; readonly backend: string | undefined };
  readonly logger: Logger;
  sendTask(name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, options: ApplyOptions): Promise<unknown>;
}

/** A UUID fixed by beat name, entry and due time, so a re-sent tick keeps its id. */
export function tickId(beat: string, entry: string, due: number): string {
  const h = createHash('sha1').update(`${beat}\0${entry}\0${due}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

export class Beat extends Emitter<BeatEvents> {
  /** This process's lock value. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID()}`;
  readonly name: string;
  /** The entries changed at run time (stored beside the lock and state). */
  readonly schedules: BeatSchedules;
  readonly #host: BeatHost;
  /** The code entries (the `schedule` option). */
  readonly #code: ReadonlyMap<string, BeatEntry>;
  /** What the leader runs: code entries, stored ones (replacing code ones of the same name), less those turned off. */
  #entries: ReadonlyArray<[string, BeatEntry]> = [];
  /** The stored schedules' version #entries was built from; undefined until loaded. */
  #version: number | undefined;
  readonly #store: BeatStore;
  readonly #lockTtl: number;
  readonly #interval: number;
  /** Undefined until the first check, which reports either way (a beat standing by says so). */
  #leading: boolean | undefined;
  #timer: LongTimeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(host: BeatHost, options: BeatOptions) {
    super(host.logger);
    this.#host = host;
    this.name = options.name ?? 'default';
    this.#code = new Map(Object.entries(options.schedule ?? {}));
    this.#lockTtl = options.lockTtl ?? 5000;
    this.#interval = options.interval ?? 200;
    if (this.#interval * 3 > this.#lockTtl)
      throw new TaskConfigError(`beat: lockTtl (${this.#lockTtl} ms) must be at least 3 × interval (${this.#interval} ms)`);
    if (typeof options.store === 'object') {
      this.#store = new FileBeatStore(options.store.file);
    } else {
      // Not a Redis Cluster: beat's scripts touch its lock and state keys together.
      const url =
        options.store ??
        [host.conf.backend, firstUrl(host.conf.broker)].find((u) => isRedisUrl(u) && !isRedisClusterUrl(u)) ??
        (isMongoUrl(host.conf.backend) ? host.conf.backend : undefined);
      if (isMongoUrl(url)) this.#store = new MongoBeatStore(url, this.name);
      else if (isRedisUrl(url) && !isRedisClusterUrl(url)) this.#store = new RedisBeatStore(url, this.name, host.logger);
      else
        throw new TaskConfigError(
          'beat needs a Redis server (or Sentinel) or MongoDB for its lock and state: set `store` to a redis:// or mongodb:// URL, or to { file } for one machine',
        );
    }
    this.schedules = new BeatSchedules(this.#store, this.#code);
  }

  get leading(): boolean {
    return this.#leading === true;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops ticking; a leader gives its lock up so another beat takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.clear();
    await this.#running;
    if (this.#leading) await this.#store.resign(this.id).catch(() => undefined);
    this.#leading = false;
    await this.#store.close();
  }

  /** Deletes this beat's lock and state in Redis. */
  clear(): Promise<void> {
    return this.#store.clear();
  }

  #schedule(delay: number): void {
    this.#timer = setLongTimeout(() => {
      this.#running = this.#tick()
        .catch((error: unknown) => this.emit('error', error as Error))
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#schedule(this.#interval);
        });
    }, delay);
  }

  async #tick(): Promise<void> {
    const leading = await this.#store.lead(this.id, this.#lockTtl);
    if (leading !== this.#leading) {
      this.#leading = leading;
      this.emit('leader', leading);
      if (leading) {
        this.#version = undefined;
        await this.#store.publishCode(new Map([...this.#code].map(([name, e]) => [name, codeEntry(e)])));
        await this.#load();
        await this.#finishPending();
      }
    }
    if (!leading) return;
    if ((await this.#store.schedulesVersion()) !== this.#version) await this.#load();
    const lastRuns = await this.#store.lastRuns();
    const now = Date.now();
    for (const [name, entry] of this.#entries) {
      if (this.#stopped) return;
      let last = lastRuns.get(name);
      if (last === undefined) {
        if (entry.schedule.anchor === 'now') {
          await this.#store.commit(name, now);
          continue;
        }
        last = 0;
      }
      let due = entry.schedule.next(last);
      while (due !== undefined && due <= now && !this.#stopped) {
        if (entry.missed !== 'all') {
          // Skip to the latest due time that has passed: missed ticks run once.
          for (let next = entry.schedule.next(due); next !== undefined && next <= now; next = entry.schedule.next(due)) due = next;
        }
        if (!(await this.#send(name, entry, due))) return;
        due = entry.schedule.next(due);
      }
    }
  }

  /** Builds the entries to run from the code ones and the store's. */
  async #load(): Promise<void> {
    const stored = await this.#store.schedules();
    const entries = new Map(this.#code);
    for (const [name, e] of stored.entries) {
      try {
        entries.set(name, fromStoredEntry(e));
      } catch (error) {
        // Written by hand, or by a newer nori: reported, the others run.
        this.emit('error', new TaskConfigError(`stored beat entry "${name}" is not run: ${(error as Error).message}`, { cause: error }));
      }
    }
    for (const name of stored.disabled) entries.delete(name);
    this.#entries = [...entries];
    this.#version = stored.version;
    this.emit('schedules', { version: stored.version, entries: [...entries.keys()] });
  }

  /** A tick the previous leader marked but did not commit: send it again, with the same id. */
  async #finishPending(): Promise<void> {
    const [pending, lastRuns] = await Promise.all([this.#store.pending(), this.#store.lastRuns()]);
    for (const [name, due] of pending) {
      const entry = this.#entries.find(([n]) => n === name)?.[1];
      if (entry && due > (lastRuns.get(name) ?? -1)) await this.#send(name, entry, due);
    }
  }

  /** False when this process no longer leads (nothing was sent). A send that fails is reported and the tick counted as run. */
  async #send(name: string, entry: BeatEntry, due: number): Promise<boolean> {
    if (!(await this.#store.begin(this.id, name, due))) {
      this.#leading = false;
      this.emit('leader', false);
      return false;
    }
    const tick: TickInfo = { entry: name, task: entry.task, due: new Date(due), taskId: tickId(this.name, name, due) };
    let sent = true;
    try {
      await this.#host.sendTask(entry.task, entry.args ?? [], entry.kwargs ?? {}, { ...entry.options, taskId: tick.taskId });
    } catch (error) {
      sent = false;
      this.emit('error', error as Error, tick);
    }
    await this.#store.commit(name, due);
    if (sent) this.emit('tick-sent', tick);
    return true;
  }
}

function codeEntry(e: BeatEntry): CodeEntry {
  return { task: e.task, schedule: e.schedule.description, ...(e.schedule.spec && { spec: e.schedule.spec }) };
}
