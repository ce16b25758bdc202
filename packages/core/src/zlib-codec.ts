/**
 * kombu's zlib codec, built into core as kombu has it built in: Celery's worker sends task events
 * as zlib-compressed batches, so every receiver must read them without an optional package.
 * `@nori/compression` adds the other codecs (and re-registers this one among its implementations).
 */
import zlib from 'node:zlib';
import type { Compressor } from './compressor.js';
import { DecodeError, MessageTooLargeError } from './errors.js';

type Decompress = (data: Uint8Array, options: { maxOutputLength: number }) => Buffer;

/**
 * A node:zlib decompression under `maxOutputLength`, so a bomb stops at the cap inside zlib instead
 * of allocating its full output; zlib's errors become nori's.
 */
export function nodeDecompress(name: string, fn: Decompress, data: Uint8Array, maxOutputLength: number): Uint8Array {
  try {
    return fn(data, { maxOutputLength });
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /larger than|maxOutputLength/i.test(e.message ?? '')) {
      throw new MessageTooLargeError(`${name}: decompressed body is over the limit of ${maxOutputLength} bytes`, { cause: error });
    }
    throw new DecodeError(`${name}: corrupt or truncated data (${e.message ?? String(error)})`, { cause: error });
  }
}

/** zlib framing under application/x-gzip (kombu's), reading gzip framing too (unzip detects it). */
export const zlibCodec: Compressor = {
  name: 'zlib',
  contentType: 'application/x-gzip',
  aliases: [],
  compress: (data) => zlib.deflateSync(data),
  decompress: (data, max) => nodeDecompress('zlib', zlib.unzipSync, data, max),
};
