/**
 * kombu's virtual-transport envelope: how Redis lists and Mongo documents hold a message, so a
 * Python kombu/Celery process reads what nori writes and the other way round.
 */
import { DecodeError, EncodeError } from '../errors.js';
import { readProperties, writeProperties } from './message-properties.js';
import type { Headers, MessageProperties, OutgoingMessage } from './transport.js';

export interface EnvelopeDeliveryInfo {
  exchange: string;
  routing_key: string;
  redelivered?: boolean;
  [key: string]: unknown;
}

export interface EnvelopeProperties {
  body_encoding: string;
  delivery_tag: string;
  delivery_info: EnvelopeDeliveryInfo;
  /**
   * On the wire as the writer's transport has it; stores map it to nori's meaning (higher first).
   * Absent when the publisher set none (kombu then reads its default, 0: the plain list on Redis).
   */
  priority?: number;
  delivery_mode: number;
  correlation_id?: string;
  reply_to?: string;
  /** Per-message TTL in ms, as a string (AMQP and kombu). */
  expiration?: string;
  message_id?: string;
  timestamp?: number;
  type?: string;
  user_id?: string;
  app_id?: string;
  [key: string]: unknown;
}

export interface Envelope {
  body: string;
  'content-encoding': string;
  'content-type': string;
  headers: Headers;
  properties: EnvelopeProperties;
}

/**
 * How deep headers may nest. Every reader of a stored envelope parses it with a recursion limit
 * (Python's json and Lua's cjson stop near 1,000 levels, and a peer that cannot parse a message
 * cannot even dead-letter it), so deeper headers are refused at publish, where the caller still
 * has the message.
 */
export const MAX_HEADER_DEPTH = 100;

function deeper(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) if (deeper(child, levels - 1)) return true;
  return false;
}

/** Throws `EncodeError` for headers nested deeper than `MAX_HEADER_DEPTH`. */
export function assertStorableHeaders(headers: Headers): void {
  if (deeper(headers, MAX_HEADER_DEPTH))
    throw new EncodeError(`headers nest deeper than ${MAX_HEADER_DEPTH} levels: brokers' other readers (kombu, Lua) could not parse the message`);
}

/** A Buffer as it is (serializers return Buffers), any other Uint8Array through a Buffer view of its bytes. */
function base64(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64');
}

export function toEnvelope(message: OutgoingMessage, exchange: string, routingKey: string, deliveryTag: string): Envelope {
  const p = message.properties;
  const properties: EnvelopeProperties = {
    body_encoding: 'base64',
    delivery_tag: deliveryTag,
    delivery_info: { exchange, routing_key: routingKey },
    delivery_mode: p.deliveryMode ?? 2,
  };
  writeProperties(p, properties, 'kombu');
  return {
    body: base64(message.body),
    'content-encoding': message.contentEncoding,
    'content-type': message.contentType,
    headers: message.headers,
    properties,
  };
}

/** The body bytes of an envelope (kombu writes base64; a missing body_encoding means utf-8 text). */
export function envelopeBody(envelope: Envelope): Uint8Array {
  if (typeof envelope.body !== 'string') throw new DecodeError('envelope body is not a string');
  return envelope.properties.body_encoding === 'base64' ? Buffer.from(envelope.body, 'base64') : Buffer.from(envelope.body, 'utf8');
}

export function envelopeProperties(envelope: Envelope): MessageProperties {
  return readProperties(envelope.properties, 'kombu');
}

/** Parse a stored JSON envelope, checking the fields nori relies on. */
export function parseEnvelope(text: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new DecodeError('stored envelope is not valid JSON', { cause });
  }
  if (typeof value !== 'object' || value === null) throw new DecodeError('stored envelope is not an object');
  const e = value as Partial<Envelope>;
  if (typeof e.body !== 'string' || typeof e.properties !== 'object' || e.properties === null) {
    throw new DecodeError('stored envelope lacks body or properties');
  }
  e.headers ??= {};
  e.properties.delivery_info ??= { exchange: '', routing_key: '' };
  return e as Envelope;
}
