/** Option parsers for commander: each throws a UsageError naming the option and the bad value. */
import { UsageError } from './errors.js';

export function int(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return n;
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
