/**
 * @nori/compression: importing it registers kombu's codecs under kombu's names and MIME types
 * (carried in the `compression` header), plus both implementations by explicit name:
 *
 *   zlib     application/x-gzip     kombu's (zlib framing); reads gzip framing too   zlib-node, zlib-fflate
 *   gzip     application/gzip       real gzip framing (nori; kombu cannot read it)   gzip-node, gzip-fflate
 *   deflate  application/x-deflate  raw deflate (nori; kombu cannot read it)         deflate-node, deflate-fflate
 *   brotli   application/x-brotli   node:zlib
 *   zstd     application/zstd       node:zlib on Node ≥ 22.15; older Node decodes with fzstd and refuses to compress
 *   bzip2    application/x-bz2      decoding only, with seek-bzip (optional peer; install it to read bzip2)
 *   lzma     application/x-lzma     xz, decoding only, with @napi-rs/lzma (optional peer); size read before decoding
 *
 * The default implementation of zlib, gzip and deflate is node:zlib, the faster one in
 * benchmarks/codecs on this machine (see benchmarks/README.md).
 */
import { registerCompressor, type Compressor } from '@nori/core';
import { deflateFflate, gzipFflate, zlibFflate } from './fflate-codecs.js';
import { bzip2 } from './bzip2-codec.js';
import { brotliNode, deflateNode, gzipNode, zlibNode } from './node-codecs.js';
import { lzma } from './xz-codec.js';
import { zstd } from './zstd-codec.js';

const named = (codec: Compressor, name: string, aliases: string[] = []): Compressor => ({ ...codec, name, aliases });

export const zlibCodec = named(zlibNode, 'zlib');
export const gzipCodec = named(gzipNode, 'gzip');
export const deflateCodec = named(deflateNode, 'deflate');

/** Register every codec. The explicit implementations go first so each MIME type ends on its default. */
export function registerCompression(): void {
  for (const codec of [zlibFflate, gzipFflate, deflateFflate, zlibNode, gzipNode, deflateNode]) registerCompressor(codec);
  for (const codec of [zlibCodec, gzipCodec, deflateCodec, brotliNode, zstd, bzip2, lzma]) registerCompressor(codec);
}

registerCompression();

export { zlibNode, gzipNode, deflateNode, brotliNode, zstd, bzip2, lzma, zlibFflate, gzipFflate, deflateFflate };
