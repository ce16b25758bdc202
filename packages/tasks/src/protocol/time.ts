/**
 * Dates at the wire edge: Celery writes `eta` / `expires` as Python's `isoformat()` of an aware
 * datetime in the app's timezone (`2026-05-01T12:00:00.123000+00:00`) and reads naive ones as UTC.
 */
import { TaskConfigError } from '../errors.js';

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timezone: string): Intl.DateTimeFormat {
  let format = formats.get(timezone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'longOffset',
      });
    } catch (error) {
      throw new TaskConfigError(`unknown timezone "${timezone}"`, { cause: error });
    }
    formats.set(timezone, format);
  }
  return format;
}

/** Throws TaskConfigError for a timezone the runtime does not know. */
export function checkTimezone(timezone: string): void {
  formatFor(timezone);
}

/** ISO 8601 with microseconds and the zone's offset, as Python's `datetime.isoformat()` writes it. */
export function toWireTime(date: Date, timezone = 'UTC'): string {
  const micros = `${String(date.getUTCMilliseconds()).padStart(3, '0')}000`;
  if (timezone === 'UTC') return `${date.toISOString().slice(0, 19)}.${micros}+00:00`;
  const parts = Object.fromEntries(
    formatFor(timezone)
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const offset = (parts['timeZoneName'] ?? 'GMT').replace('GMT', '') || '+00:00';
  return `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}:${parts['second']}.${micros}${offset}`;
}

const HAS_ZONE = /(?:[zZ]|[+-]\d{2}:?\d{2})$/;

/** A wire time as a Date; naive times are UTC (Celery 5's `utc=True`). Undefined when absent or unreadable. */
export function fromWireTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(HAS_ZONE.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
