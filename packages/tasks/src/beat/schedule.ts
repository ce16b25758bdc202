/**
 * When a beat entry is due (Celery's schedule, crontab and clocked schedules): each schedule says
 * the first due time after a given one. Crontab uses croner (maintained, no dependencies), which
 * evaluates in an IANA time zone and handles DST as cron does: a wall-clock time skipped by a
 * spring-forward runs once, right after the change; one repeated by a fall-back runs once.
 */
import { Cron } from 'croner';
import { TaskConfigError } from '../errors.js';

export interface Schedule {
  /** The first due time strictly after `after` (ms); undefined when it never runs again. */
  next(after: number): number | undefined;
  /** Where a new entry starts counting from: now (interval, crontab) or the beginning (one-off). */
  readonly anchor: 'now' | 'epoch';
  /** Shown in logs and errors. */
  readonly description: string;
  /** What it is made of, as stored (`every`, `crontab`, `at`); a schedule of your own has none and cannot be stored. */
  readonly spec?: ScheduleSpec;
}

/** A schedule as JSON: how stored beat entries keep theirs (see `scheduleFrom`). */
export type ScheduleSpec = { every: number } | { crontab: string; timezone?: string } | { at: string };

/** Every `ms` milliseconds (Celery's `schedule(timedelta)`); the first run one interval after the entry is first seen. */
export function every(ms: number): Schedule {
  if (!Number.isFinite(ms) || ms <= 0) throw new TaskConfigError(`every(): the interval must be > 0 ms, got ${ms}`);
  return { next: (after) => after + ms, anchor: 'now', description: `every ${ms} ms`, spec: { every: ms } };
}

/** A cron expression (5 fields, or 6 with seconds first) in an IANA time zone (default UTC). */
export function crontab(expression: string, options: { timezone?: string } = {}): Schedule {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: options.timezone ?? 'UTC', paused: true });
  } catch (error) {
    throw new TaskConfigError(`crontab("${expression}"): ${(error as Error).message}`, { cause: error });
  }
  return {
    next: (after) => cron.nextRun(new Date(after))?.getTime(),
    anchor: 'now',
    description: `crontab ${expression} ${options.timezone ?? 'UTC'}`,
    spec: { crontab: expression, ...(options.timezone !== undefined && { timezone: options.timezone }) },
  };
}

/** Once, at `when` (Celery's `clocked`); a time already past when first seen runs at once. */
export function at(when: Date): Schedule {
  const t = when.getTime();
  if (Number.isNaN(t)) throw new TaskConfigError('at(): not a valid date');
  return { next: (after) => (t > after ? t : undefined), anchor: 'epoch', description: `at ${when.toISOString()}`, spec: { at: when.toISOString() } };
}

/** The schedule a spec describes (a stored entry's); a spec that is none of the three is a TaskConfigError. */
export function scheduleFrom(spec: ScheduleSpec): Schedule {
  const s = spec as Partial<Record<'every' | 'crontab' | 'timezone' | 'at', unknown>>;
  if (typeof s.every === 'number') return every(s.every);
  if (typeof s.crontab === 'string') return crontab(s.crontab, typeof s.timezone === 'string' ? { timezone: s.timezone } : {});
  if (typeof s.at === 'string') return at(new Date(s.at));
  throw new TaskConfigError(`not a schedule: ${JSON.stringify(spec)} (expected { every: ms }, { crontab, timezone? } or { at: ISO date })`);
}
