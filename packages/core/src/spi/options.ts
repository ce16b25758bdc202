/**
 * The one reader of numeric transport options: the first of `names` that is set wins (kombu's
 * snake_case beside nori's camelCase), numbers may come as strings (URL query values), and a value
 * that is not a finite number at or above `min` is an InvalidArgumentError naming the option —
 * never NaN, never a silent default.
 */
import { InvalidArgumentError } from '../errors.js';

export function numberOption(options: Readonly<Record<string, unknown>>, names: string | readonly string[], fallback: number, min = 0): number {
  const list = typeof names === 'string' ? [names] : names;
  const name = list.find((n) => options[n] !== undefined);
  if (name === undefined) return fallback;
  const value = options[name];
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`option ${name} must be a number of at least ${min}, got ${JSON.stringify(value)}`);
  return n;
}
