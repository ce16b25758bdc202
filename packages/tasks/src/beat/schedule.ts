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
}

/** Every `ms` milliseconds (Celery's `schedule(timedelta)`); the first run one interval after the entry is first seen. */
export function every(ms: number): Schedule {
  if (!Number.isFinite(ms) || ms <= 0) throw new TaskConfigError(`every(): the interval must be > 0 ms, got ${ms}`);
  return { next: (after) => after + ms, anchor: 'now', description: `every ${ms} ms` };
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
  };
}

/** Once, at `when` (Celery's `clocked`); a time already past when first seen runs at once. */
export function at(when: Date): Schedule {
  const t = when.getTime();
  return { next: (after) => (t > after ? t : undefined), anchor: 'epoch', description: `at ${when.toISOString()}` };
}
