/**
 * bzip2 (kombu's `bzip2`, `application/x-bz2`), decoding only: Python peers may send it, and nori
 * reads it with seek-bzip (pure JS), an optional peer dependency loaded on first use. nori does
 * not write bzip2: compressing is an `UnsupportedFeatureError` that names the codecs it does write.
 *
 * The output is taken a byte at a time and counted, so a bomb stops at the cap; the input reports
 * end-of-data as -1, so truncated input is a `DecodeError` instead of reading past the end.
 */
import { createRequire } from 'node:module';
import { CompressorNotInstalledError, DecodeError, MessageTooLargeError, UnsupportedFeatureError, type Compressor } from '@nori/core';

interface ByteSource {
  readByte(): number;
  read(buffer: Uint8Array, offset: number, length: number): number;
  seek(position: number): void;
  eof(): boolean;
}

interface ByteSink {
  writeByte(byte: number): void;
}

interface SeekBzip {
  decode(input: ByteSource, output: ByteSink, multistream?: boolean): void;
}

let seekBzip: SeekBzip | null | undefined;

function decoder(): SeekBzip {
  if (seekBzip === undefined) {
    try {
      seekBzip = createRequire(import.meta.url)('seek-bzip') as SeekBzip;
    } catch {
      seekBzip = null;
    }
  }
  if (!seekBzip) throw new CompressorNotInstalledError('bzip2 decoding needs the seek-bzip package: npm install seek-bzip');
  return seekBzip;
}

function source(data: Uint8Array): ByteSource {
  let pos = 0;
  return {
    readByte: () => (pos < data.length ? (data[pos++] as number) : -1),
    read(buffer, offset, length) {
      const n = Math.min(length, data.length - pos);
      if (n <= 0) return -1;
      buffer.set(data.subarray(pos, pos + n), offset);
      pos += n;
      return n;
    },
    seek: (position) => void (pos = position),
    eof: () => pos >= data.length,
  };
}

class CappedSink implements ByteSink {
  #buffer = new Uint8Array(64 * 1024);
  length = 0;

  constructor(private readonly max: number) {}

  writeByte(byte: number): void {
    if (this.length === this.#buffer.length) {
      if (this.length >= this.max) throw new MessageTooLargeError(`bzip2: decompressed body is over the limit of ${this.max} bytes`);
      const grown = new Uint8Array(Math.min(this.max, this.#buffer.length * 2));
      grown.set(this.#buffer);
      this.#buffer = grown;
    }
    this.#buffer[this.length++] = byte;
  }

  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.length);
  }
}

export const bzip2: Compressor = {
  name: 'bzip2',
  contentType: 'application/x-bz2',
  aliases: ['bzip'],
  compress() {
    throw new UnsupportedFeatureError('nori reads bzip2 but does not write it; compress with zlib, gzip, brotli or zstd');
  },
  decompress(data, max) {
    const bz = decoder();
    const sink = new CappedSink(max);
    try {
      bz.decode(source(data), sink, true);
    } catch (error) {
      if (error instanceof MessageTooLargeError) throw error;
      throw new DecodeError(`bzip2: corrupt or truncated data (${(error as Error).message})`, { cause: error });
    }
    return sink.bytes;
  },
};
