/**
 * The envelope as kombu stores it on Redis: kombu's wire priority (none when the message has none:
 * kombu's plain list), plus nori's absolute expiry, which kombu ignores.
 */
import { parseEnvelope, type Envelope } from '@nori/core/spi';
import { fromWirePriority, toWirePriority } from './keys.js';

/** nori's absolute expiry rides in the envelope's properties, which kombu ignores. */
export const EXPIRES_AT = 'nori_expires_at';
/** So does the count of lease lapses (see `Claimed.lapses`), written by the sweep that restores one. */
export const LAPSES = 'nori_lapses';

/**
 * The properties are edited in place and put back before returning (no await in between): this
 * runs once per message, and copying the envelope twice was a measurable share of the publish cost.
 */
export function toWire(envelope: Envelope, priority: number | undefined, expiresAt: number | undefined): { text: string; wire: number } {
  const wire = priority === undefined ? 0 : toWirePriority(priority);
  const properties = envelope.properties;
  const original = properties.priority;
  if (priority === undefined) delete properties.priority;
  else properties.priority = wire;
  if (expiresAt !== undefined) properties[EXPIRES_AT] = expiresAt;
  const text = JSON.stringify(envelope);
  if (original === undefined) delete properties.priority;
  else properties.priority = original;
  if (expiresAt !== undefined) delete properties[EXPIRES_AT];
  return { text, wire };
}

export function fromWire(text: string): Envelope {
  const envelope = parseEnvelope(text);
  const wire = envelope.properties.priority;
  if (wire !== undefined) envelope.properties.priority = fromWirePriority(Number(wire) || 0);
  return envelope;
}
