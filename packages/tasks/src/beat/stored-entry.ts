/**
 * Beat entries changed at run time (django_celery_beat's and RedBeat's idea) are kept in beat's
 * store as JSON, so every beat process and the CLI read the same thing: the task, the schedule's
 * spec (`every`, `crontab` or `at`; a schedule of your own has no spec and cannot be stored), the
 * arguments and apply options (JSON values only: a Date or a function would not come back as it
 * went in), and when it was written. Each change is also logged (`ScheduleChange`).
 */
import { isDeepStrictEqual } from 'node:util';
import { TaskConfigError } from '../errors.js';
import type { ApplyOptions } from '../task.js';
import type { BeatEntry } from './entry.js';
import { scheduleFrom, type ScheduleSpec } from './schedule.js';

export interface StoredEntry {
  task: string;
  schedule: ScheduleSpec;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: ApplyOptions;
  missed?: 'once' | 'all';
  /** When it was written, ms since the epoch. */
  updatedAt: number;
}

/** A code entry as the leader publishes it, so that `list` elsewhere (the CLI) shows it. */
export interface CodeEntry {
  task: string;
  /** The schedule's description. */
  schedule: string;
  spec?: ScheduleSpec;
}

/** One change of the stored schedules, newest first in `changes()`. */
export interface ScheduleChange {
  /** When, ms since the epoch. */
  at: number;
  op: 'upsert' | 'remove' | 'enable' | 'disable';
  entry: string;
  /** Who: host and pid of the process that made it. */
  by: string;
  /** The schedule after an upsert. */
  schedule?: string;
}

/** What the stores hold, as of `version` (which moves on with every change). */
export interface StoredSchedules {
  version: number;
  entries: Map<string, StoredEntry>;
  /** Names turned off (stored or code entries). */
  disabled: Set<string>;
  /** The code entries of the last process that led. */
  code: Map<string, CodeEntry>;
}

/** How many changes the stores keep. */
export const CHANGES_KEPT = 100;

function json<T>(what: string, value: T): T {
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(value)) as unknown;
  } catch (error) {
    throw new TaskConfigError(`${what} cannot be stored as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isDeepStrictEqual(copy, value))
    throw new TaskConfigError(`${what} must be plain JSON values to be stored (a Date, a Map or undefined would come back changed)`);
  return value;
}

/** Checks a beat entry can be stored, and returns it as stored. */
export function toStoredEntry(name: string, entry: BeatEntry, now: number): StoredEntry {
  if (typeof name !== 'string' || name === '') throw new TaskConfigError('a stored beat entry needs a name');
  const where = `beat entry "${name}"`;
  if (typeof entry.task !== 'string' || entry.task === '') throw new TaskConfigError(`${where}: task must be a task name`);
  const spec = entry.schedule?.spec;
  if (!spec) throw new TaskConfigError(`${where}: only every(), crontab() and at() schedules can be stored (a schedule of your own lives in code)`);
  if (entry.missed !== undefined && entry.missed !== 'once' && entry.missed !== 'all') throw new TaskConfigError(`${where}: missed must be 'once' or 'all'`);
  if (entry.options?.taskId !== undefined) throw new TaskConfigError(`${where}: beat gives each tick its own task id; options.taskId cannot be set`);
  return {
    task: entry.task,
    schedule: spec,
    ...(entry.args !== undefined && { args: json(`${where}: args`, [...entry.args]) }),
    ...(entry.kwargs !== undefined && { kwargs: json(`${where}: kwargs`, { ...entry.kwargs }) }),
    ...(entry.options !== undefined && { options: json(`${where}: options`, { ...entry.options }) }),
    ...(entry.missed !== undefined && { missed: entry.missed }),
    updatedAt: now,
  };
}

/** The beat entry a stored one describes; a TaskConfigError when its schedule is not one (written by hand?). */
export function fromStoredEntry(stored: StoredEntry): BeatEntry {
  return {
    task: stored.task,
    schedule: scheduleFrom(stored.schedule),
    ...(stored.args !== undefined && { args: stored.args }),
    ...(stored.kwargs !== undefined && { kwargs: stored.kwargs }),
    ...(stored.options !== undefined && { options: stored.options }),
    ...(stored.missed !== undefined && { missed: stored.missed }),
  };
}
