/**
 * Codecs on node:zlib. Decompression passes `maxOutputLength`, so a bomb stops at the cap inside
 * zlib instead of allocating its full output.
 */
import zlib from 'node:zlib';
import { type Compressor } from '@nori/core';
import { nodeDecompress } from '@nori/core/spi';

export type Sync = (data: Uint8Array, options?: zlib.ZlibOptions | zlib.BrotliOptions) => Buffer;

function codec(name: string, contentType: string, compress: Sync, decompress: Sync, aliases: string[] = []): Compressor {
  return {
    name,
    contentType,
    aliases,
    compress: (data) => compress(data),
    decompress: (data, max) => nodeDecompress(name, decompress, data, max),
  };
}

/** kombu's zlib: zlib framing under application/x-gzip; reads gzip framing too (unzip detects it). */
export const zlibNode = codec('zlib-node', 'application/x-gzip', zlib.deflateSync, zlib.unzipSync);
/** Real gzip framing (RFC 1952). */
export const gzipNode = codec('gzip-node', 'application/gzip', zlib.gzipSync, zlib.unzipSync);
/** Raw deflate (RFC 1951), no framing. */
export const deflateNode = codec('deflate-node', 'application/x-deflate', zlib.deflateRawSync, zlib.inflateRawSync);
export const brotliNode = codec('brotli', 'application/x-brotli', (d) => zlib.brotliCompressSync(d), zlib.brotliDecompressSync);
