/**
 * The one table of message properties: nori's name, kombu's envelope name (Redis, MongoDB, and
 * Python peers) and amqplib's name, with how each value crosses the wire. The readers and writers
 * below walk it; a new property is one row here.
 */
import { DecodeError } from '../errors.js';
import type { MessageProperties } from './transport.js';

/**
 * How a value is written and read back: `mode` is AMQP's delivery mode (1 or 2, others dropped),
 * `number` a number kept as it is, `ttl` a number of ms written as text (AMQP and kombu), `text` a
 * string (numbers and booleans from other peers read as text).
 */
export type PropertyKind = 'mode' | 'number' | 'ttl' | 'text';

export interface MessagePropertyName {
  readonly nori: keyof MessageProperties;
  readonly kombu: string;
  readonly amqplib: string;
  readonly kind: PropertyKind;
}

export const MESSAGE_PROPERTIES: readonly MessagePropertyName[] = [
  { nori: 'deliveryMode', kombu: 'delivery_mode', amqplib: 'deliveryMode', kind: 'mode' },
  { nori: 'priority', kombu: 'priority', amqplib: 'priority', kind: 'number' },
  { nori: 'correlationId', kombu: 'correlation_id', amqplib: 'correlationId', kind: 'text' },
  { nori: 'replyTo', kombu: 'reply_to', amqplib: 'replyTo', kind: 'text' },
  { nori: 'expiration', kombu: 'expiration', amqplib: 'expiration', kind: 'ttl' },
  { nori: 'messageId', kombu: 'message_id', amqplib: 'messageId', kind: 'text' },
  { nori: 'timestamp', kombu: 'timestamp', amqplib: 'timestamp', kind: 'number' },
  { nori: 'type', kombu: 'type', amqplib: 'type', kind: 'text' },
  { nori: 'userId', kombu: 'user_id', amqplib: 'userId', kind: 'text' },
  { nori: 'appId', kombu: 'app_id', amqplib: 'appId', kind: 'text' },
];

/** Whose names a reader or writer uses. */
export type PropertyDialect = 'kombu' | 'amqplib';

type Row = readonly [nori: keyof MessageProperties, name: string, kind: PropertyKind];

// Built once per dialect. The per-message loops below walk the keys the object has (usually a
// few, often none) and look each up here, instead of reading every row's name from the object.
const BY_NORI = new Map<string, Readonly<Record<PropertyDialect, Row>>>(
  MESSAGE_PROPERTIES.map((row) => [row.nori, { kombu: [row.nori, row.kombu, row.kind], amqplib: [row.nori, row.amqplib, row.kind] }]),
);
const BY_NAME: Record<PropertyDialect, ReadonlyMap<string, Row>> = {
  kombu: new Map(MESSAGE_PROPERTIES.map((row) => [row.kombu, [row.nori, row.kombu, row.kind]])),
  amqplib: new Map(MESSAGE_PROPERTIES.map((row) => [row.amqplib, [row.nori, row.amqplib, row.kind]])),
};

/** A text property as written by any peer: strings as they are, numbers and booleans as text; anything else is refused. */
function text(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new DecodeError(`message property ${name} is not text (${typeof value})`);
}

/**
 * Copies the set properties of `properties` into `out` under `dialect`'s names (a TTL as text).
 * Unset ones are left out, not written as undefined: kombu and amqplib tell the two apart.
 */
export function writeProperties(properties: MessageProperties, out: Record<string, unknown>, dialect: PropertyDialect): void {
  for (const key in properties) {
    const value = properties[key as keyof MessageProperties];
    const row = value === undefined ? undefined : BY_NORI.get(key)?.[dialect];
    if (row) out[row[1]] = row[2] === 'ttl' ? String(value) : value;
  }
}

/** nori's properties from `source` under `dialect`'s names; values of the wrong type are dropped, except an unreadable text (`DecodeError`). */
export function readProperties(source: object, dialect: PropertyDialect): MessageProperties {
  const from = source as Record<string, unknown>;
  const rows = BY_NAME[dialect];
  const out: Record<string, unknown> = {};
  for (const key in from) {
    const value = from[key];
    const row = value == null ? undefined : rows.get(key);
    if (row === undefined) continue;
    const [nori, name, kind] = row;
    switch (kind) {
      case 'mode':
        if (value === 1 || value === 2) out[nori] = value;
        break;
      case 'number':
        if (typeof value === 'number') out[nori] = value;
        break;
      case 'ttl':
        if (value !== '') out[nori] = Number(value);
        break;
      case 'text':
        out[nori] = text(value, name);
    }
  }
  return out as MessageProperties;
}
