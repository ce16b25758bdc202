/**
 * Codecs on fflate (pure JS). Decompression feeds the input in small slices and counts the output
 * as it streams, so a bomb stops near the cap instead of allocating its full output.
 */
import { deflateSync, Gunzip, gzipSync, Inflate, Unzlib, zlibSync, type FlateStreamHandler } from 'fflate';
import { DecodeError, MessageTooLargeError, type Compressor } from '@nori/core';

interface Stream {
  ondata: FlateStreamHandler;
  push(chunk: Uint8Array, final?: boolean): void;
}

/** Input per push: small enough that one push inflates to at most ~16 MB (deflate's ratio cap is ~1032). */
const SLICE = 16 * 1024;

function streamed(name: string, stream: Stream, data: Uint8Array, max: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  stream.ondata = (chunk, final) => {
    total += chunk.length;
    if (total > max) throw new MessageTooLargeError(`${name}: decompressed body is over the limit of ${max} bytes`);
    chunks.push(chunk);
    if (final) ended = true;
  };
  try {
    for (let i = 0; i < data.length; i += SLICE) stream.push(data.subarray(i, i + SLICE), i + SLICE >= data.length);
    if (data.length === 0) stream.push(data, true);
  } catch (error) {
    if (error instanceof MessageTooLargeError) throw error;
    throw new DecodeError(`${name}: corrupt or truncated data (${(error as Error).message})`, { cause: error });
  }
  if (!ended) throw new DecodeError(`${name}: truncated data`);
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const GZIP_MAGIC = (d: Uint8Array): boolean => d[0] === 0x1f && d[1] === 0x8b;

export const zlibFflate: Compressor = {
  name: 'zlib-fflate',
  contentType: 'application/x-gzip',
  aliases: [],
  compress: (data) => zlibSync(data),
  // kombu writes zlib framing under this type; some producers send real gzip: accept both.
  decompress: (data, max) => streamed('zlib', GZIP_MAGIC(data) ? new Gunzip() : new Unzlib(), data, max),
};

export const gzipFflate: Compressor = {
  name: 'gzip-fflate',
  contentType: 'application/gzip',
  aliases: [],
  compress: (data) => gzipSync(data),
  decompress: (data, max) => streamed('gzip', new Gunzip(), data, max),
};

export const deflateFflate: Compressor = {
  name: 'deflate-fflate',
  contentType: 'application/x-deflate',
  aliases: [],
  compress: (data) => deflateSync(data),
  decompress: (data, max) => streamed('deflate', new Inflate(), data, max),
};
