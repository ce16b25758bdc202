/**
 * The serializer registry: named, content-typed codecs for message bodies (kombu's
 * `kombu.serialization`). A serializer is looked up by name ('json') or MIME type
 * ('application/json'); consumers check the accept list before any decoder runs. Serializers that
 * live in their own package (msgpack, yaml) are loaded by name on first use, like transports.
 */
import { SerializerNotInstalledError } from './errors.js';
import { importPackage } from './load-package.js';

export interface Serializer {
  /** Short name used in `serializer:` options and accept lists, e.g. 'json'. */
  readonly name: string;
  /** MIME type written to the message, e.g. 'application/json'. */
  readonly contentType: string;
  /** 'utf-8' for text formats, 'binary' otherwise. */
  readonly contentEncoding: string;
  /** Throws `EncodeError` naming what could not be encoded. */
  encode(body: unknown): Uint8Array;
  /** Text formats: the same encoding as a string, for a writer that takes text (a Redis command) and would otherwise copy the bytes again. */
  encodeText?(body: unknown): string;
  /** Throws `DecodeError` on malformed input. */
  decode(data: Uint8Array): unknown;
}

const byName = new Map<string, Serializer>();
const byType = new Map<string, Serializer>();

interface PackagedSerializer {
  readonly name: string;
  readonly contentType: string;
  readonly packageName: string;
}

/** Serializers nori knows by name that a package of their own registers when imported. */
const packaged: readonly PackagedSerializer[] = [
  { name: 'msgpack', contentType: 'application/x-msgpack', packageName: '@nori/msgpack' },
  { name: 'msgpack-records', contentType: 'application/x-nori-msgpack-records', packageName: '@nori/msgpack' },
  { name: 'yaml', contentType: 'application/x-yaml', packageName: '@nori/yaml' },
];

function packagedFor(nameOrType: string): PackagedSerializer | undefined {
  return packaged.find((p) => p.name === nameOrType || p.contentType === nameOrType);
}

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

/**
 * By name or MIME type, among the registered serializers; throws `SerializerNotInstalledError`
 * naming the package to install, or listing what is registered. `loadSerializer` also imports it.
 */
export function getSerializer(nameOrType: string): Serializer {
  const s = findSerializer(nameOrType);
  if (s) return s;
  const p = packagedFor(nameOrType);
  throw new SerializerNotInstalledError(
    p
      ? `the ${p.name} serializer is not installed: run \`npm install ${p.packageName}\``
      : `no serializer "${nameOrType}"; registered: ${[...byName.keys()].join(', ')}`,
  );
}

/** `getSerializer`, after importing the serializer's package when it has one and it is not loaded yet. */
export async function loadSerializer(nameOrType: string): Promise<Serializer> {
  const p = findSerializer(nameOrType) ? undefined : packagedFor(nameOrType);
  if (p) await importPackage(p.packageName);
  return getSerializer(nameOrType);
}

export function findSerializer(nameOrType: string): Serializer | undefined {
  return byName.get(nameOrType) ?? byType.get(nameOrType);
}

/** The MIME type for a name or MIME type in an accept list (known before its package loads); unknown names throw. */
export function contentTypeOf(nameOrType: string): string {
  if (nameOrType.includes('/')) return nameOrType;
  return findSerializer(nameOrType)?.contentType ?? packagedFor(nameOrType)?.contentType ?? getSerializer(nameOrType).contentType;
}

export function registeredSerializers(): Serializer[] {
  return [...byName.values()];
}
