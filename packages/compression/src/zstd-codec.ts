/**
 * zstd (kombu's `zstd`, `application/zstd`). Node 22.15+/23.8+ have it in node:zlib, used for both
 * directions there. On older Node, decoding uses fzstd (pure JS, by fflate's author) so a service
 * reads what a Python producer compressed; compressing there is a clear error naming the Node
 * that has it.
 *
 * fzstd allocates each frame's declared window up front, so the frame headers are read first and
 * a declared content size over the cap, or a window over max(cap, 8 MiB), is refused before any
 * allocation; the output is then counted block by block (at most 128 KiB each) and stops at the cap.
 */
import zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { CompressorNotInstalledError, DecodeError, MessageTooLargeError, type Compressor } from '@nori/core';
import { streamed } from './capped-stream.js';
import { nodeDecompress } from '@nori/core/spi';
import type { Sync } from './node-codecs.js';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** RFC 8878: decoders should support windows up to 8 MiB. */
const MIN_SUPPORTED_WINDOW = 8 * 1024 * 1024;

const truncated = (): never => {
  throw new DecodeError('zstd: truncated data');
};

function readLE(data: Uint8Array, at: number, bytes: number): number {
  if (at + bytes > data.length) truncated();
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + (data[at + i] as number);
  return value;
}

/** Walk every frame's header and blocks (no decoding) and refuse a window or content size over `max`. */
export function checkZstdFrames(data: Uint8Array, max: number): void {
  let at = 0;
  while (at < data.length) {
    const magic = readLE(data, at, 4);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      at += 8 + readLE(data, at + 4, 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new DecodeError('zstd: not a zstd frame');
    const descriptor = readLE(data, at + 4, 1);
    at += 5;
    const contentSizeFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    let window = 0;
    if (!singleSegment) {
      const w = readLE(data, at++, 1);
      const base = 2 ** (10 + (w >> 3));
      window = base + (base / 8) * (w & 7);
    }
    at += [0, 1, 2, 4][descriptor & 3] as number;
    const sizeBytes = [singleSegment, 2, 4, 8][contentSizeFlag] as number;
    const contentSize = sizeBytes === 0 ? undefined : readLE(data, at, sizeBytes) + (sizeBytes === 2 ? 256 : 0);
    at += sizeBytes;
    if (singleSegment) window = contentSize ?? 0;
    if ((contentSize ?? 0) > max) throw new MessageTooLargeError(`zstd: a frame declares ${contentSize} bytes of content, over the limit of ${max} bytes`);
    // A window may exceed its content (streaming compressors declare 2 MiB or more for any input),
    // so it is bounded by the cap or by the 8 MiB every zstd decoder is expected to support.
    if (window > Math.max(max, MIN_SUPPORTED_WINDOW)) {
      throw new MessageTooLargeError(`zstd: a frame declares a ${window}-byte window, over the limit of ${Math.max(max, MIN_SUPPORTED_WINDOW)} bytes`);
    }
    for (let last = 0; !last;) {
      const header = readLE(data, at, 3);
      last = header & 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw new DecodeError('zstd: corrupt data (reserved block type)');
      at += 3 + (type === 1 ? 1 : header >>> 3);
    }
    if ((descriptor >> 2) & 1) at += 4;
    if (at > data.length) truncated();
  }
}

function decodeOnOldNode(data: Uint8Array, max: number): Uint8Array {
  checkZstdFrames(data, max);
  return streamed('zstd', new Decompress(), data, max);
}

const zstdCompress = (zlib as unknown as { zstdCompressSync?: Sync }).zstdCompressSync;
const zstdDecompress = (zlib as unknown as { zstdDecompressSync?: Sync }).zstdDecompressSync;

export const zstd: Compressor = {
  name: 'zstd',
  contentType: 'application/zstd',
  aliases: ['zstandard'],
  compress: zstdCompress
    ? (data) => zstdCompress(data)
    : () => {
        throw new CompressorNotInstalledError(
          `zstd compression needs Node.js 22.15 or newer (node:zlib has no zstd in ${process.version}); this runtime decodes zstd only`,
        );
      },
  decompress: zstdDecompress ? (data, max) => nodeDecompress('zstd', zstdDecompress, data, max) : decodeOnOldNode,
};
