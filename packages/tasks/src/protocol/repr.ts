/**
 * Python's `repr` of JSON-shaped values and of exceptions, cut at a length, as Celery's monitors
 * and logs show them: the `argsrepr` / `kwargsrepr` headers (Celery writes `saferepr(args, 1024)`),
 * event fields, Flower's results. The one place nori writes Python's repr.
 */

function str(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

function repr(value: unknown, seen: Set<object>): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return str(value.toISOString());
  if (value instanceof Uint8Array) return `b${str(Buffer.from(value).toString('latin1'))}`;
  if (typeof value !== 'object') return str(String(value));
  if (seen.has(value)) return '...';
  seen.add(value);
  const out = Array.isArray(value)
    ? `[${value.map((v) => repr(v, seen)).join(', ')}]`
    : `{${Object.entries(value)
        .map(([k, v]) => `${str(k)}: ${repr(v, seen)}`)
        .join(', ')}}`;
  seen.delete(value);
  return out;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/** Python's repr of one value. */
export function pyRepr(value: unknown): string {
  return repr(value, new Set());
}

/** Python's repr of one value, cut at `max` (Celery's saferepr): e.g. a task-succeeded result. */
export function safeRepr(value: unknown, max = 1024): string {
  return cut(pyRepr(value), max);
}

/** `(1, 'a')`, as Python shows a tuple of positional arguments. */
export function argsRepr(args: readonly unknown[], max = 1024): string {
  const seen = new Set<object>();
  const items = args.map((a) => repr(a, seen));
  return cut(items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`, max);
}

/** `{'k': 1}`, as Python shows a dict of keyword arguments. */
export function kwargsRepr(kwargs: Readonly<Record<string, unknown>>, max = 1024): string {
  return cut(repr(kwargs, new Set()), max);
}

/** Python's repr of an exception: `ValueError('boom')`, from Celery's fields when it has them (its args), else its message. */
export function exceptionRepr(error: unknown): string {
  if (!(error instanceof Error)) return safeRepr(error);
  const e = error as Error & { excType?: unknown; excMessage?: unknown };
  const type = typeof e.excType === 'string' ? e.excType : e.name;
  const args: readonly unknown[] = Array.isArray(e.excMessage) ? e.excMessage : [e.message];
  const seen = new Set<object>();
  return `${type}(${cut(args.map((a) => repr(a, seen)).join(', '), 1024)})`;
}
