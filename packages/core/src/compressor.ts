/**
 * The compression registry (kombu's `kombu.compression`). The producer compresses the serialized
 * body and writes the codec's MIME type to the `compression` header; the consumer looks the
 * header up by MIME type or alias and decompresses before decoding. The codecs live in
 * `@nori/compression`, imported on first use of a codec nobody registered.
 */
import { CompressorNotInstalledError } from './errors.js';
import { importPackage } from './load-package.js';

const COMPRESSION_PACKAGE = '@nori/compression';

export interface Compressor {
  /** Short name, e.g. 'zlib'. */
  readonly name: string;
  /** Written to the `compression` header, e.g. 'application/x-gzip'. */
  readonly contentType: string;
  /** Other names that select it, e.g. ['gzip'] for kombu's zlib entry. */
  readonly aliases: readonly string[];
  compress(data: Uint8Array): Uint8Array;
  /**
   * Throws `DecodeError` naming the codec on corrupt or truncated input, and
   * `MessageTooLargeError` when the output would exceed `maxOutputLength` bytes.
   */
  decompress(data: Uint8Array, maxOutputLength: number): Uint8Array;
}

/** Default cap on a decompressed body: stops decompression bombs. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

const byKey = new Map<string, Compressor>();
const names = new Map<string, Compressor>();

/** Register (or replace) a codec under its name, MIME type and aliases. */
export function registerCompressor(compressor: Compressor): void {
  names.set(compressor.name, compressor);
  for (const key of [compressor.name, compressor.contentType, ...compressor.aliases]) byKey.set(key, compressor);
}

export function findCompressor(nameOrType: string): Compressor | undefined {
  return byKey.get(nameOrType);
}

/** Among the registered codecs; throws `CompressorNotInstalledError` naming the install command. `loadCompressor` also imports them. */
export function getCompressor(nameOrType: string): Compressor {
  const c = byKey.get(nameOrType);
  if (c) return c;
  const known = [...names.keys()];
  throw new CompressorNotInstalledError(
    `no compression codec "${nameOrType}"; registered: ${known.length ? known.join(', ') : 'none'} (nori's codecs: run \`npm install ${COMPRESSION_PACKAGE}\`)`,
  );
}

/** `getCompressor`, after importing `@nori/compression` when the codec is not registered yet. */
export async function loadCompressor(nameOrType: string): Promise<Compressor> {
  if (!byKey.has(nameOrType)) await importPackage(COMPRESSION_PACKAGE);
  return getCompressor(nameOrType);
}

export function registeredCompressors(): Compressor[] {
  return [...names.values()];
}
