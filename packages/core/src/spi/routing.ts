/**
 * AMQP routing, exactly as RabbitMQ does it, for every virtual transport: topic `*` is one word,
 * `#` zero or more words (`a.#` matches `a`, `a.*.c` does not match `a.b.x.c`); headers
 * exchanges match on `x-match` all/any. kombu's regex-based topic matching got `*` wrong; this
 * matches word lists instead.
 */
import type { StoredBinding } from './store.js';
import type { ExchangeType } from '../topology.js';
import type { Headers } from './transport.js';

const MAX_CACHED_PATTERNS = 1024;
const compiled = new Map<string, readonly string[]>();

function words(pattern: string): readonly string[] {
  let w = compiled.get(pattern);
  if (w === undefined) {
    w = pattern.split('.');
    if (compiled.size >= MAX_CACHED_PATTERNS) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, w);
  }
  return w;
}

/**
 * Wildcard matching over words with backtracking to the last `#` (the classic linear-time glob
 * algorithm with `#` as "any run of words" and `*` as "exactly one word").
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = words(pattern);
  const k = routingKey.split('.');
  let pi = 0;
  let ki = 0;
  let hashAt = -1;
  let resumeAt = 0;
  while (ki < k.length) {
    const token = p[pi];
    if (token === '#') {
      hashAt = pi++;
      resumeAt = ki;
    } else if (token !== undefined && (token === '*' || token === k[ki])) {
      pi++;
      ki++;
    } else if (hashAt !== -1) {
      pi = hashAt + 1;
      ki = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p[pi] === '#') pi++;
  return pi === p.length;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RabbitMQ's headers exchange: `x-match` all (default) / any, and the `-with-x` variants. */
export function headersMatch(bindingArguments: Record<string, unknown>, headers: Headers): boolean {
  const mode = String(bindingArguments['x-match'] ?? 'all');
  const withX = mode.endsWith('-with-x');
  const keys = Object.keys(bindingArguments).filter((key) => key !== 'x-match' && (withX || !key.startsWith('x-')));
  const matches = (key: string): boolean => Object.hasOwn(headers, key) && sameValue(headers[key], bindingArguments[key]);
  return mode.startsWith('any') ? keys.some(matches) : keys.every(matches);
}

/** The queues a message goes to: each once, in first-binding order. */
export function route(type: ExchangeType, bindings: readonly StoredBinding[], routingKey: string, headers: Headers): string[] {
  const queues: string[] = [];
  for (const b of bindings) {
    if (queues.includes(b.queue)) continue;
    const hit =
      type === 'fanout' ||
      (type === 'direct' && b.routingKey === routingKey) ||
      (type === 'topic' && topicMatches(b.routingKey, routingKey)) ||
      (type === 'headers' && headersMatch(b.arguments, headers));
    if (hit) queues.push(b.queue);
  }
  return queues;
}
