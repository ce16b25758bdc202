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

// Built once per dialect: the per-message loops below read flat tuples, not look names up.
const ROWS: Record<PropertyDialect, readonly Row[]> = {
  kombu: MESSAGE_PROPERTIES.map((row) => [row.nori, row.kombu, row.kind] as const),
  amqplib: MESSAGE_PROPERTIES.map((row) => [row.nori, row.amqplib, row.kind] as const),
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
  for (const [nori, name, kind] of ROWS[dialect]) {
    const value = properties[nori];
    if (value !== undefined) out[name] = kind === 'ttl' ? String(value) : value;
  }
}

/** nori's properties from `source` under `dialect`'s names; values of the wrong type are dropped, except an unreadable text (`DecodeError`). */
export function readProperties(source: object, dialect: PropertyDialect): MessageProperties {
  const from = source as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [nori, name, kind] of ROWS[dialect]) {
    const value = from[name];
    if (value == null) continue;
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
