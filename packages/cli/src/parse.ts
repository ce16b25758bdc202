/** Option parsers for commander: each throws a UsageError naming the option and the bad value. */
import { UsageError } from './errors.js';

export function int(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return n;
  };
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as ms: a number in the option's `unit` (Celery's seconds where Celery takes seconds,
 * nori's ms elsewhere), or with its unit spelled out: 500ms, 1.5s, 2m, 1h.
 */
export function duration(name: string, unit: 's' | 'ms'): (value: string) => number {
  return (value) => {
    const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/.exec(value.trim());
    if (!m) throw new UsageError(`${name} must be a number of ${unit === 's' ? 'seconds' : 'ms'} (or 500ms, 1.5s, 2m, 1h), got "${value}"`);
    return Number(m[1]) * UNIT_MS[m[2] ?? unit]!;
  };
}

/** Celery's `--expires`: seconds from now (a duration, as ms) or an ISO 8601 date. */
export function durationOrDate(name: string): (value: string) => number | Date {
  const seconds = duration(name, 's');
  return (value) => {
    if (/^\d{4}-\d{2}-\d{2}/.test(value)) return date(name)(value);
    return seconds(value);
  };
}

/** An ISO 8601 date (with no zone: local time). */
export function date(name: string): (value: string) => Date {
  return (value) => {
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) throw new UsageError(`${name} must be an ISO 8601 date such as 2026-01-31T13:45:00Z, got "${value}"`);
    return d;
  };
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function jsonOf<T>(name: string, check: (v: unknown) => v is T, what: string): (value: string) => T {
  return (value) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      throw new UsageError(`${name} is not JSON: ${(e as Error).message}`);
    }
    if (!check(parsed)) throw new UsageError(`${name} must be ${what}, got ${value}`);
    return parsed;
  };
}

export const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's strtobool, as Flower reads its boolean environment variables. */
export function bool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['y', 'yes', 't', 'true', 'on', '1'].includes(v)) return true;
  if (['n', 'no', 'f', 'false', 'off', '0', ''].includes(v)) return false;
  throw new UsageError(`${name} must be true or false (1/0, yes/no, on/off), got "${value}"`);
}
