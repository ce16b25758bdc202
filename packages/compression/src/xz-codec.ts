/**
 * lzma (kombu's `lzma`, `application/x-lzma`): Python's `lzma.compress`, the xz container around
 * LZMA2. Decoding only, like bzip2: Python peers may send it. Decoded with @napi-rs/lzma ~1.4 (an
 * optional peer dependency, loaded on first use; 1.5 needs Node 22.20), whose decoder is synchronous
 * but has no output cap; its 1.4 encoder writes stored (uncompressed) chunks, so nori does not write
 * lzma. So the size is read first, without decoding:
 * every LZMA2 chunk header states its unpacked size (at most 2 MiB) and, for compressed chunks, its
 * packed size, so the headers of every chunk of every block of every concatenated stream are walked
 * and summed, and a body whose chunks add up to more than the cap is refused before any allocation.
 * The decoder then holds each chunk to its stated size (and each block to the index), so what it
 * returns is that sum.
 */
import { createRequire } from 'node:module';
import { CompressorNotInstalledError, DecodeError, MessageTooLargeError, UnsupportedFeatureError, type Compressor } from '@nori/core';

interface NapiXz {
  decompressSync(input: Uint8Array): Uint8Array;
}

let napi: NapiXz | null | undefined;

function decoder(): NapiXz {
  if (napi === undefined) {
    try {
      napi = (createRequire(import.meta.url)('@napi-rs/lzma') as { xz: NapiXz }).xz;
    } catch {
      napi = null;
    }
  }
  if (!napi) throw new CompressorNotInstalledError('lzma (xz) decoding needs the @napi-rs/lzma package: npm install @napi-rs/lzma@~1.4.5');
  return napi;
}

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** Bytes of the integrity check for each check id (xz spec 2.1.1.2). */
const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

const corrupt = (what: string): never => {
  throw new DecodeError(`lzma: corrupt or truncated xz data (${what})`);
};

class Reader {
  at = 0;
  constructor(readonly data: Uint8Array) {}
  byte(): number {
    if (this.at >= this.data.length) corrupt('ends early');
    return this.data[this.at++] as number;
  }
  /** xz's variable-length integer (7 bits a byte, at most 9 bytes). */
  varint(): number {
    let value = 0;
    for (let i = 0; i < 9; i++) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return value;
    }
    return corrupt('integer too long');
  }
  skip(n: number): void {
    this.at += n;
    if (this.at > this.data.length) corrupt('ends early');
  }
  align(from: number): void {
    this.skip((4 - ((this.at - from) % 4)) % 4);
  }
}

/** The LZMA2 chunks of one block: their unpacked sizes, summed. */
function lzma2Size(r: Reader, max: number, before: number): number {
  let total = 0;
  for (;;) {
    const control = r.byte();
    if (control === 0x00) return total;
    if (control === 0x01 || control === 0x02) {
      const size = ((r.byte() << 8) | r.byte()) + 1;
      total += size;
      r.skip(size);
    } else if (control >= 0x80) {
      total += ((control & 0x1f) << 16) + ((r.byte() << 8) | r.byte()) + 1;
      const packed = ((r.byte() << 8) | r.byte()) + 1;
      if (control >= 0xc0) r.byte(); // a new properties byte
      r.skip(packed);
    } else {
      corrupt(`LZMA2 control byte 0x${control.toString(16)}`);
    }
    if (before + total > max) throw new MessageTooLargeError(`lzma: decompressed body is over the limit of ${max} bytes`);
  }
}

/** The decompressed size of an xz body (all concatenated streams), read from chunk headers; refuses one over `max`. */
export function xzDecodedSize(data: Uint8Array, max: number): number {
  const r = new Reader(data);
  let total = 0;
  while (r.at < data.length) {
    if (data[r.at] === 0) {
      r.skip(4); // stream padding between concatenated streams
      continue;
    }
    for (const b of MAGIC) if (r.byte() !== b) corrupt('not an xz stream');
    if (r.byte() !== 0) corrupt('stream flags');
    const checkSize = CHECK_SIZES[r.byte() & 0x0f] as number;
    r.skip(4);
    for (let size = r.byte(); size !== 0; size = r.byte()) {
      const block = r.at - 1;
      r.at = block + (size + 1) * 4; // the block header: filters, optional sizes, CRC32
      if (r.at > data.length) corrupt('ends early');
      total += lzma2Size(r, max, total);
      r.align(block);
      r.skip(checkSize);
    }
    const index = r.at - 1;
    for (let records = r.varint(); records > 0; records--) {
      r.varint();
      r.varint();
    }
    r.align(index);
    r.skip(4 + 12); // index CRC32, stream footer
  }
  return total;
}

export const lzma: Compressor = {
  name: 'lzma',
  contentType: 'application/x-lzma',
  aliases: ['xz'],
  compress() {
    throw new UnsupportedFeatureError('nori reads lzma (xz) but does not write it; compress with zlib, gzip, brotli or zstd');
  },
  decompress(data, max) {
    const xz = decoder();
    const size = xzDecodedSize(data, max);
    let out: Uint8Array;
    try {
      out = xz.decompressSync(data);
    } catch (error) {
      throw new DecodeError(`lzma: corrupt or truncated xz data (${(error as Error).message})`, { cause: error });
    }
    if (out.length !== size) throw new DecodeError(`lzma: decoded ${out.length} bytes where the chunks state ${size}`);
    return out;
  },
};
