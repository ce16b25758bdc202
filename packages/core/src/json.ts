/**
 * kombu's JSON (application/json, utf-8), including kombu 5.3+'s type tags
 * `{"__type__": T, "__value__": V}`.
 *
 * JS types, both ways:
 * - `Date` ↔ `datetime` (written as ISO 8601 with `+00:00`, which every Python 3 parses; a
 *   naive Python datetime is read as UTC).
 * - `Uint8Array` / `Buffer` ↔ `bytes` (utf-8 text, as kombu writes decodable bytes) or `base64`.
 * - `bigint` → `decimal` (its exact digits).
 * - `date`, `time`, `decimal` and `uuid` tags are read as strings ('2024-05-01', '10:30:00',
 *   '3.14', the canonical 8-4-4-4-12 UUID), so no precision is lost; they go back to Python as
 *   plain strings.
 * - An unknown `__type__` is a `DecodeError`, as in kombu.
 * - A function, a symbol, a `Map` or a `Set` is an `EncodeError` (JSON.stringify would drop the
 *   first two and write `{}` for the others), as kombu refuses what json cannot encode.
 *
 * `jsonPlain` writes no tags (dates as ISO strings, bytes as utf-8 text or base64 strings) for
 * kombu < 5.3 peers such as Debian's 5.2, which cannot read them; it still reads tags.
 */
import { TextDecoder } from 'node:util';
import { DecodeError, EncodeError } from './errors.js';
import type { Serializer } from './serializer.js';

export interface JsonSerializerOptions {
  /** Write kombu 5.3+ type tags. Default true. */
  typeTags?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Tagged = { __type__: string; __value__: unknown };
const tag = (type: string, value: unknown): Tagged => ({ __type__: type, __value__: value });

function isoDatetime(date: Date, key: string): string {
  if (Number.isNaN(date.getTime())) throw new EncodeError(`cannot serialize an invalid Date at key "${key}"`);
  return date.toISOString().replace('Z', '+00:00');
}

function bytesValue(bytes: Uint8Array): { type: 'bytes' | 'base64'; value: string } {
  try {
    return { type: 'bytes', value: utf8.decode(bytes) };
  } catch {
    return { type: 'base64', value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}

/**
 * Whether an object holds anything JSON.stringify would get wrong on its own. A cheap early-exit
 * scan: primitives are checked inline (no call per string or number), since this runs on every
 * published body.
 */
function needsReplacer(value: object, depth: number): boolean {
  if (depth > 64) return true; // deep or circular: let the careful path decide
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (unsafe(item, depth)) return true;
    return false;
  }
  if (value.constructor !== Object && (value instanceof Date || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set)) return true;
  for (const key in value) if (unsafe((value as Record<string, unknown>)[key], depth)) return true;
  return false;
}

function unsafe(item: unknown, depth: number): boolean {
  const type = typeof item;
  if (type === 'object') return item !== null && needsReplacer(item as object, depth + 1);
  return type === 'function' || type === 'bigint' || type === 'symbol';
}

function replacer(typeTags: boolean) {
  return function (this: Record<string, unknown>, key: string, value: unknown): unknown {
    // `this[key]` is the value before toJSON ran: Date and Buffer have their own toJSON.
    const original = this[key];
    if (original instanceof Date) {
      const iso = isoDatetime(original, key);
      return typeTags ? tag('datetime', iso) : iso;
    }
    // JSON.stringify would write {} for both, losing every entry without a word.
    if (original instanceof Map) throw new EncodeError(`cannot serialize a Map at key "${key || '(root)'}" as JSON: convert it (Object.fromEntries(map))`);
    if (original instanceof Set) throw new EncodeError(`cannot serialize a Set at key "${key || '(root)'}" as JSON: convert it ([...set])`);
    if (original instanceof Uint8Array) {
      const { type, value: text } = bytesValue(original);
      return typeTags ? tag(type, text) : text;
    }
    switch (typeof original) {
      case 'bigint':
        return typeTags ? tag('decimal', original.toString()) : original.toString();
      case 'function':
        throw new EncodeError(`cannot serialize a function at key "${key || '(root)'}"`);
      case 'symbol':
        throw new EncodeError(`cannot serialize a symbol at key "${key || '(root)'}"`);
      default:
        return value;
    }
  };
}

function uuidString(value: unknown): string {
  const hex = typeof value === 'object' && value !== null ? (value as { hex?: unknown }).hex : value;
  const h = String(hex).replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(h)) throw new DecodeError(`invalid uuid in JSON type tag: ${JSON.stringify(value)}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function parseDatetime(value: unknown): Date {
  const text = String(value);
  const withZone = /(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`;
  const date = new Date(withZone);
  if (Number.isNaN(date.getTime())) throw new DecodeError(`invalid datetime in JSON type tag: ${JSON.stringify(value)}`);
  return date;
}

// A Map, not an object literal: a tag such as "constructor" or "toString" must not find
// Object.prototype's functions and decode to a wrong-typed value.
const decoders = new Map<string, (value: unknown) => unknown>([
  ['datetime', parseDatetime],
  ['date', (v) => String(v)],
  ['time', (v) => String(v)],
  ['decimal', (v) => String(v)],
  ['uuid', uuidString],
  ['bytes', (v) => Buffer.from(String(v), 'utf8')],
  ['base64', (v) => Buffer.from(String(v), 'base64')],
]);

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 2 || !Object.hasOwn(value, '__type__') || !Object.hasOwn(value, '__value__')) return value;
  const { __type__: type, __value__: inner } = value as Tagged;
  const decode = typeof type === 'string' ? decoders.get(type) : undefined;
  if (!decode) throw new DecodeError(`unsupported JSON type tag ${JSON.stringify(type)}`);
  return decode(inner);
}

export function createJsonSerializer(options: JsonSerializerOptions = {}): Serializer {
  const typeTags = options.typeTags ?? true;
  const replace = replacer(typeTags);
  function encodeText(body: unknown): string {
    let text: string | undefined;
    try {
      text = unsafe(body, -1) ? JSON.stringify(body, replace) : JSON.stringify(body);
    } catch (error) {
      if (error instanceof EncodeError) throw error;
      throw new EncodeError(`cannot serialize body as JSON: ${(error as Error).message}`, { cause: error });
    }
    if (text === undefined) throw new EncodeError(`cannot serialize ${typeof body} as JSON`);
    return text;
  }
  return {
    name: typeTags ? 'json' : 'json-plain',
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    encode(body) {
      return Buffer.from(encodeText(body), 'utf8');
    },
    encodeText,
    decode(data) {
      let text: string;
      try {
        text = utf8.decode(data);
      } catch (cause) {
        throw new DecodeError('JSON body is not valid utf-8', { cause });
      }
      try {
        return text.includes('"__type__"') ? JSON.parse(text, reviver) : JSON.parse(text);
      } catch (error) {
        if (error instanceof DecodeError) throw error;
        throw new DecodeError(`invalid JSON body: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/** 'json': writes kombu 5.3+ type tags. */
export const json: Serializer = createJsonSerializer();
/** 'json-plain': no tags written, for kombu < 5.3 (Debian's 5.2); reads tags. */
export const jsonPlain: Serializer = createJsonSerializer({ typeTags: false });
