/**
 * Codecs on fflate (pure JS). Input small enough that even deflate's largest expansion stays under
 * the cap is inflated in one call (fflate's fastest path); larger input is fed in slices with the
 * output counted as it streams, so a bomb stops near the cap instead of allocating its full output.
 */
import { deflateSync, Gunzip, gunzipSync, gzipSync, Inflate, inflateSync, Unzlib, unzlibSync, zlibSync } from 'fflate';
import { DecodeError, MessageTooLargeError, type Compressor } from '@nori/core';
import { streamed, type Stream } from './capped-stream.js';

/** deflate cannot expand its input more than ~1032 times (RFC 1951's longest match per few bits). */
const MAX_EXPANSION = 1032;

function decompress(name: string, data: Uint8Array, max: number, oneShot: (d: Uint8Array) => Uint8Array, stream: () => Stream): Uint8Array {
  if (data.length * MAX_EXPANSION > max) return streamed(name, stream(), data, max);
  let out: Uint8Array;
  try {
    out = oneShot(data);
  } catch (error) {
    throw new DecodeError(`${name}: corrupt or truncated data (${(error as Error).message})`, { cause: error });
  }
  if (out.length > max) throw new MessageTooLargeError(`${name}: decompressed body is over the limit of ${max} bytes`);
  return out;
}

const GZIP_MAGIC = (d: Uint8Array): boolean => d[0] === 0x1f && d[1] === 0x8b;

export const zlibFflate: Compressor = {
  name: 'zlib-fflate',
  contentType: 'application/x-gzip',
  aliases: [],
  compress: (data) => zlibSync(data),
  // kombu writes zlib framing under this type; some producers send real gzip: accept both.
  decompress: (data, max) =>
    GZIP_MAGIC(data) ? decompress('zlib', data, max, gunzipSync, () => new Gunzip()) : decompress('zlib', data, max, unzlibSync, () => new Unzlib()),
};

export const gzipFflate: Compressor = {
  name: 'gzip-fflate',
  contentType: 'application/gzip',
  aliases: [],
  compress: (data) => gzipSync(data),
  decompress: (data, max) => decompress('gzip', data, max, gunzipSync, () => new Gunzip()),
};

export const deflateFflate: Compressor = {
  name: 'deflate-fflate',
  contentType: 'application/x-deflate',
  aliases: [],
  compress: (data) => deflateSync(data),
  decompress: (data, max) => decompress('deflate', data, max, inflateSync, () => new Inflate()),
};
