/**
 * `beat.schedules`: the entries changed at run time, kept in beat's store beside its lock and
 * state, so they survive restarts and leader changes. Any process (a beat, the CLI, an admin
 * script) changes them; the leader reads the store's version each tick and reloads on a change,
 * so a change takes effect within one tick. A stored entry with the name of a code entry replaces
 * it (removing the stored one brings the code one back); enable/disable work on both kinds.
 */
import { hostname } from 'node:os';
import type { BeatStore } from './beat-store.js';
import type { BeatEntry } from './entry.js';
import { scheduleFrom, type Schedule, type ScheduleSpec } from './schedule.js';
import { toStoredEntry, type ScheduleChange } from './stored-entry.js';

/** One entry as `list()` shows it. */
export interface ScheduleInfo {
  name: string;
  /** 'stored' (changed at run time) or 'code' (the schedule given to a beat); `overrides` when a stored one replaces a code one. */
  source: 'stored' | 'code';
  overrides: boolean;
  task: string;
  /** The schedule's description (`every 60000 ms`, `crontab 30 2 * * * Europe/Berlin`, ...). */
  schedule: string;
  spec: ScheduleSpec | null;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  enabled: boolean;
  /** The last due time sent; null before the first. */
  lastRun: Date | null;
  /** The next due time (when the schedule is known here); null when it never runs again. */
  nextRun: Date | null;
  /** When a stored entry was last written. */
  updatedAt: Date | null;
}

export class BeatSchedules {
  readonly #store: BeatStore;
  readonly #code: ReadonlyMap<string, BeatEntry>;
  readonly #by = `${hostname()}:${process.pid}`;

  /** `code`: this process's own code entries (a beat's schedule option). */
  constructor(store: BeatStore, code: ReadonlyMap<string, BeatEntry>) {
    this.#store = store;
    this.#code = code;
  }

  #change(op: ScheduleChange['op'], entry: string, schedule?: string): ScheduleChange {
    return { at: Date.now(), op, entry, by: this.#by, ...(schedule !== undefined && { schedule }) };
  }

  /**
   * Stores an entry, new or replacing the one of that name (its last run is kept: an interval
   * entry's next tick is one new interval after the last one). Only every(), crontab() and at()
   * schedules, and JSON arguments and options, can be stored (else a TaskConfigError).
   * `enabled` (default: as it was, on for a new entry) turns it on or off.
   */
  async upsert(name: string, entry: BeatEntry & { enabled?: boolean }): Promise<void> {
    const stored = toStoredEntry(name, entry, Date.now());
    await this.#store.upsert(name, stored, entry.enabled, this.#change('upsert', name, entry.schedule.description));
  }

  /** Removes a stored entry (a code entry of that name runs again); false when none is stored. */
  remove(name: string): Promise<boolean> {
    return this.#store.remove(name, this.#change('remove', name));
  }

  /** Turns a stored or code entry on; false when no entry has that name. */
  enable(name: string): Promise<boolean> {
    return this.#store.setEnabled(name, true, this.#change('enable', name));
  }

  /** Turns a stored or code entry off (it sends nothing until enabled; missed ticks then run once); false when no entry has that name. */
  disable(name: string): Promise<boolean> {
    return this.#store.setEnabled(name, false, this.#change('disable', name));
  }

  /** The last changes, newest first (the store keeps 100). */
  changes(limit = 20): Promise<ScheduleChange[]> {
    return this.#store.changes(limit);
  }

  /** Every entry, code and stored, by name. */
  async list(): Promise<ScheduleInfo[]> {
    const [stored, lastRuns] = await Promise.all([this.#store.schedules(), this.#store.lastRuns()]);
    const infos = new Map<string, ScheduleInfo>();
    const info = (
      name: string,
      source: ScheduleInfo['source'],
      entry: Pick<BeatEntry, 'task' | 'args' | 'kwargs'>,
      schedule: string,
      spec: ScheduleSpec | null,
    ) => {
      const last = lastRuns.get(name);
      return {
        name,
        source,
        overrides: false,
        task: entry.task,
        schedule,
        spec,
        args: entry.args ?? [],
        kwargs: entry.kwargs ?? {},
        enabled: !stored.disabled.has(name),
        lastRun: last === undefined ? null : new Date(last),
        nextRun: null,
        updatedAt: null,
      } satisfies ScheduleInfo;
    };
    for (const [name, e] of stored.code) infos.set(name, info(name, 'code', { task: e.task }, e.schedule, e.spec ?? null));
    for (const [name, e] of this.#code) infos.set(name, info(name, 'code', e, e.schedule.description, e.schedule.spec ?? null));
    for (const [name, e] of stored.entries) {
      const schedule = safeSchedule(e.schedule);
      infos.set(name, {
        ...info(name, 'stored', e, schedule?.description ?? `unreadable ${JSON.stringify(e.schedule)}`, e.schedule),
        overrides: infos.has(name),
        updatedAt: new Date(e.updatedAt),
      });
    }
    for (const i of infos.values()) {
      const code = this.#code.get(i.name);
      const schedule = code && i.source === 'code' ? code.schedule : i.spec ? safeSchedule(i.spec) : undefined;
      const next = schedule && i.lastRun ? schedule.next(i.lastRun.getTime()) : undefined;
      i.nextRun = next === undefined ? null : new Date(next);
    }
    return [...infos.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** The schedule of a stored spec, or undefined when it is not one (written by hand?). */
function safeSchedule(spec: ScheduleSpec): Schedule | undefined {
  try {
    return scheduleFrom(spec);
  } catch {
    return undefined;
  }
}
