/**
 * Body encoding on the way out (serialize, then compress) and decoding on the way in (size check,
 * accept check, decompress, deserialize), with kombu's rules: the `compression` header holds the
 * codec's MIME type, content type/encoding describe the uncompressed bytes, a message with no
 * content type is raw bytes, and `application/data` / `application/text` are always accepted.
 */
import { DEFAULT_MAX_DECOMPRESSED_BYTES, getCompressor, findCompressor, loadCompressor } from './compressor.js';
import { CompressorNotInstalledError, ContentDisallowedError, DecodeError, EncodeError, MessageTooLargeError, NoriError } from './errors.js';
import { contentTypeOf, findSerializer, getSerializer, loadSerializer } from './serializer.js';
import type { Headers } from './spi/transport.js';
import { TextDecoder } from 'node:util';

export interface EncodeOptions {
  /** Serializer name or MIME type; default the producer's. */
  serializer?: string;
  /** Compression codec name or MIME type. */
  compression?: string;
  /** Send a `Uint8Array` or string body as is, under this content type. */
  contentType?: string;
  contentEncoding?: string;
}

export interface EncodedBody {
  body: Uint8Array;
  contentType: string;
  contentEncoding: string;
  /** MIME type for the `compression` header. */
  compression?: string;
}

function asBytes(body: unknown, what: string): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  throw new EncodeError(`${what} needs a Uint8Array or string body, got ${typeof body}`);
}

/** The serializer `encodeBody` will use, or undefined when the body goes as it is. */
function serializerFor(body: unknown, options: EncodeOptions, defaultSerializer: string): string | undefined {
  if (options.contentType !== undefined) return undefined;
  if (body instanceof Uint8Array && options.serializer === undefined) return undefined;
  return options.serializer ?? defaultSerializer;
}

/**
 * Load the packages of the serializer and codec `encodeBody` will need (by name, on first use).
 * Undefined when they are registered already, so the publish hot path awaits nothing.
 */
export function prepareEncode(body: unknown, options: EncodeOptions, defaultSerializer: string): Promise<unknown> | undefined {
  const serializer = serializerFor(body, options, defaultSerializer);
  const needsSerializer = serializer !== undefined && !findSerializer(serializer);
  const needsCompressor = options.compression !== undefined && !findCompressor(options.compression);
  if (!needsSerializer && !needsCompressor) return undefined;
  const loads: Promise<unknown>[] = [];
  if (needsSerializer) loads.push(loadSerializer(serializer));
  if (needsCompressor) loads.push(loadCompressor(options.compression as string));
  return Promise.all(loads);
}

export function encodeBody(body: unknown, options: EncodeOptions, defaultSerializer: string): EncodedBody {
  let encoded: EncodedBody;
  const serializerName = serializerFor(body, options, defaultSerializer);
  if (options.contentType !== undefined) {
    encoded = {
      body: asBytes(body, `content type "${options.contentType}"`),
      contentType: options.contentType,
      contentEncoding: options.contentEncoding ?? (typeof body === 'string' ? 'utf-8' : 'binary'),
    };
  } else if (serializerName === undefined) {
    encoded = { body: body as Uint8Array, contentType: 'application/data', contentEncoding: 'binary' };
  } else {
    const serializer = getSerializer(serializerName);
    let bytes: Uint8Array;
    try {
      bytes = serializer.encode(body);
    } catch (error) {
      if (error instanceof NoriError) throw error;
      throw new EncodeError(`cannot serialize body with ${serializer.name}: ${(error as Error).message}`, { cause: error });
    }
    encoded = { body: bytes, contentType: serializer.contentType, contentEncoding: serializer.contentEncoding };
  }
  if (options.compression !== undefined) {
    const compressor = getCompressor(options.compression);
    encoded.body = compressor.compress(encoded.body);
    encoded.compression = compressor.contentType;
  }
  return encoded;
}

/**
 * The largest body published or decoded unless configured otherwise: RabbitMQ's own default
 * (`max_message_size`, 128 MiB), so a message one transport takes is taken by the others; kombu
 * has no limit. Lower it where messages are known to be small.
 */
export const DEFAULT_MAX_BODY_SIZE = 128 * 1024 * 1024;

/**
 * `MessageTooLargeError` for a body of `size` bytes over `limit` (set by `option`). Every transport's
 * `publish` calls it with its transport option `maxBodySize` before anything is sent or stored.
 */
export function assertBodySize(size: number, limit: number, option = 'transport option maxBodySize'): void {
  if (size > limit) throw new MessageTooLargeError(`body of ${size} bytes is over the limit of ${limit} bytes (${option})`);
}

/** Content types decoded whatever the accept list says (kombu's trusted content). */
const ALWAYS_ACCEPTED = new Set(['application/data', 'application/text']);

export interface DecodeLimits {
  /** Accepted MIME types; undefined accepts everything registered. */
  readonly accept?: ReadonlySet<string>;
  /** Largest body as received, in bytes (default `DEFAULT_MAX_BODY_SIZE`, 128 MiB). */
  readonly maxBodySize?: number;
  /** Largest body after decompression, in bytes. */
  readonly maxDecompressedSize?: number;
}

/** Names or MIME types → MIME types. Unknown names throw `SerializerNotInstalledError` right away. */
export function resolveAccept(accept: readonly string[]): ReadonlySet<string> {
  return new Set(accept.map(contentTypeOf));
}

const textDecoders = new Map<string, TextDecoder>();
function decodeText(bytes: Uint8Array, encoding: string): string {
  let decoder = textDecoders.get(encoding);
  if (!decoder) {
    try {
      decoder = new TextDecoder(encoding, { fatal: true });
    } catch (cause) {
      throw new DecodeError(`unknown content encoding "${encoding}"`, { cause });
    }
    textDecoders.set(encoding, decoder);
  }
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new DecodeError(`body is not valid ${encoding}`, { cause });
  }
}

/**
 * Load the packages of the codec and serializer a received body needs (by name, on first use),
 * where the accept list allows its content type. Undefined when nothing is missing. A package that
 * is not installed is left to `decodeBody`, whose error names the install command.
 */
export function prepareDecode(contentType: string | undefined, headers: Headers, limits: DecodeLimits): Promise<unknown> | undefined {
  const compression = headers['compression'];
  const needsCompressor = typeof compression === 'string' && compression !== '' && !findCompressor(compression);
  const type = contentType || 'application/data';
  const needsSerializer = !findSerializer(type) && (!limits.accept || limits.accept.has(type));
  if (!needsCompressor && !needsSerializer) return undefined;
  const loads: Promise<unknown>[] = [];
  if (needsCompressor) loads.push(loadCompressor(compression));
  if (needsSerializer) loads.push(loadSerializer(type));
  return Promise.allSettled(loads);
}

export function decodeBody(
  raw: Uint8Array,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  headers: Headers,
  limits: DecodeLimits,
): unknown {
  assertBodySize(raw.byteLength, limits.maxBodySize ?? DEFAULT_MAX_BODY_SIZE, 'consumer option maxBodySize');
  const type = contentType || 'application/data';
  if (limits.accept && !limits.accept.has(type) && !ALWAYS_ACCEPTED.has(type)) {
    throw new ContentDisallowedError(`refusing to deserialize content of type ${type}; accepted: ${[...limits.accept].join(', ')}`);
  }
  let bytes = raw;
  const compression = headers['compression'];
  if (typeof compression === 'string' && compression !== '') {
    const compressor = findCompressor(compression);
    if (!compressor) {
      throw new CompressorNotInstalledError(
        `message is compressed with "${compression}", which no registered codec handles (nori's codecs: run \`npm install @nori/compression\`)`,
      );
    }
    bytes = compressor.decompress(raw, limits.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  }
  const serializer = findSerializer(type);
  if (serializer) return serializer.decode(bytes);
  const encoding = contentEncoding || 'binary';
  return encoding === 'binary' || encoding === 'ascii-8bit' ? bytes : decodeText(bytes, encoding);
}
