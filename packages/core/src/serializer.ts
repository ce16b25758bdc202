/**
 * The serializer registry: named, content-typed codecs for message bodies (kombu's
 * `kombu.serialization`). A serializer is looked up by name ('json') or MIME type
 * ('application/json'); consumers check the accept list before any decoder runs.
 */
import { SerializerNotInstalledError } from './errors.js';

export interface Serializer {
  /** Short name used in `serializer:` options and accept lists, e.g. 'json'. */
  readonly name: string;
  /** MIME type written to the message, e.g. 'application/json'. */
  readonly contentType: string;
  /** 'utf-8' for text formats, 'binary' otherwise. */
  readonly contentEncoding: string;
  /** Throws `EncodeError` naming what could not be encoded. */
  encode(body: unknown): Uint8Array;
  /** Throws `DecodeError` on malformed input. */
  decode(data: Uint8Array): unknown;
}

const byName = new Map<string, Serializer>();
const byType = new Map<string, Serializer>();

/** Register (or replace) a serializer under its name and content type. */
export function registerSerializer(serializer: Serializer): void {
  byName.set(serializer.name, serializer);
  byType.set(serializer.contentType, serializer);
}

export function unregisterSerializer(name: string): void {
  const s = byName.get(name);
  if (!s) return;
  byName.delete(name);
  if (byType.get(s.contentType) === s) byType.delete(s.contentType);
}

/** By name or MIME type; throws `SerializerNotInstalledError` listing what is registered. */
export function getSerializer(nameOrType: string): Serializer {
  const s = findSerializer(nameOrType);
  if (!s) {
    throw new SerializerNotInstalledError(
      `no serializer "${nameOrType}"; registered: ${[...byName.keys()].join(', ')} (msgpack: npm install @nori/msgpack, yaml: npm install @nori/yaml)`,
    );
  }
  return s;
}

export function findSerializer(nameOrType: string): Serializer | undefined {
  return byName.get(nameOrType) ?? byType.get(nameOrType);
}

/** The MIME type for a name or MIME type in an accept list; unknown names throw. */
export function contentTypeOf(nameOrType: string): string {
  if (nameOrType.includes('/')) return nameOrType;
  return getSerializer(nameOrType).contentType;
}

export function registeredSerializers(): Serializer[] {
  return [...byName.values()];
}
