import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Connection, DecodeError, getCompressor, MessageTooLargeError, Queue, UnsupportedFeatureError, type Message } from '@nori/core';
import '@nori/compression';

const text = Buffer.from(JSON.stringify({ rows: Array.from({ length: 500 }, (_, i) => ({ i, name: `row ${i}`, ok: i % 2 === 0 })) }));
const IMPLEMENTATIONS = ['zlib', 'zlib-node', 'zlib-fflate', 'gzip', 'gzip-node', 'gzip-fflate', 'deflate', 'deflate-node', 'deflate-fflate', 'brotli'];

describe('compression codecs', () => {
  for (const name of IMPLEMENTATIONS) {
    it(`${name}: round trip, and compresses`, () => {
      const c = getCompressor(name);
      const packed = c.compress(text);
      expect(packed.length).toBeLessThan(text.length / 3);
      expect(Buffer.from(c.decompress(packed, 1 << 20)).equals(text)).toBe(true);
    });

    it(`${name}: corrupt and truncated input is a DecodeError naming the codec`, () => {
      const c = getCompressor(name);
      const packed = Buffer.from(c.compress(text));
      // Not random bytes: raw deflate has no checksum, so some random inputs inflate "fine". 0x07
      // is a reserved deflate block type, a zlib header with a wrong method, and no gzip magic.
      const corrupt = Buffer.concat([Buffer.from([0x07]), Buffer.alloc(199, 0xa5)]);
      expect(() => c.decompress(corrupt, 1 << 20)).toThrow(DecodeError);
      expect(() => c.decompress(packed.subarray(0, packed.length - 20), 1 << 20)).toThrow(DecodeError);
      expect(() => c.decompress(corrupt, 1 << 20)).toThrow(new RegExp(name.split('-')[0] as string));
    });

    it(`${name}: a decompression bomb stops at the configured maximum`, () => {
      const c = getCompressor(name);
      const bomb = c.compress(new Uint8Array(64 * 1024 * 1024)); // 64 MiB of zeros, a few KB compressed
      expect(bomb.length).toBeLessThan(512 * 1024);
      expect(() => c.decompress(bomb, 1024 * 1024)).toThrow(MessageTooLargeError);
    });
  }

  it('bzip2 (decoding): round trip through the system bzip2, multistream, corrupt, truncated and bomb input', () => {
    const bz = getCompressor('application/x-bz2');
    const packed = execFileSync('bzip2', ['-c'], { input: text });
    expect(Buffer.from(bz.decompress(packed, 1 << 20)).equals(text)).toBe(true);
    // Two bzip2 streams back to back (what `cat a.bz2 b.bz2` gives) decode as one body.
    expect(Buffer.from(bz.decompress(Buffer.concat([packed, packed]), 1 << 20)).equals(Buffer.concat([text, text]))).toBe(true);
    expect(() => bz.decompress(Buffer.from('BZh9 not really bzip2 data'), 1 << 20)).toThrow(DecodeError);
    expect(() => bz.decompress(packed.subarray(0, packed.length - 20), 1 << 20)).toThrow(/bzip2: corrupt or truncated/);
    const bomb = execFileSync('bzip2', ['-c'], { input: Buffer.alloc(16 * 1024 * 1024) });
    expect(bomb.length).toBeLessThan(4096);
    expect(() => bz.decompress(bomb, 1024 * 1024)).toThrow(MessageTooLargeError);
  });

  it('zlib (kombu’s application/x-gzip) also reads real gzip framing; the two implementations agree', () => {
    const gz = zlib.gzipSync(text);
    expect(Buffer.from(getCompressor('zlib-node').decompress(gz, 1 << 20)).equals(text)).toBe(true);
    expect(Buffer.from(getCompressor('zlib-fflate').decompress(gz, 1 << 20)).equals(text)).toBe(true);
    expect(Buffer.from(getCompressor('zlib-node').decompress(getCompressor('zlib-fflate').compress(text), 1 << 20)).equals(text)).toBe(true);
    expect(getCompressor('application/x-gzip').name).toBe('zlib');
  });

  it('bzip2 is read, not written; (below Node 22.15) zstd is a known name that fails clearly', () => {
    expect(() => getCompressor('bzip2').compress(text)).toThrow(UnsupportedFeatureError);
    expect(() => getCompressor('bzip2').compress(text)).toThrow(/zlib, gzip, brotli or zstd/);
    const hasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
    if (hasZstd) expect(Buffer.from(getCompressor('zstd').decompress(getCompressor('zstd').compress(text), 1 << 20)).equals(text)).toBe(true);
    else expect(() => getCompressor('zstd').compress(text)).toThrow(/Node\.js 22\.15.*decodes zstd only/);
  });
});

/** Made by Python's zstandard (as kombu compresses): 8 MiB of zeros; 'hello zstd ' × 100; a frame without content size; two frames. */
const ZSTD = {
  bomb: 'KLUv/YBYAACAAFQAABAAAAEA+/85wAICABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAMAEAA=',
  text: 'KLUv/WBMA5UAAFhoZWxsbyB6c3RkIAEAPvgvXg==',
  noSize: 'KLUv/QBYVQAAGGFiYwEAstN3Qw==',
  twoFrames: 'KLUv/SAEIQAAb25lLCi1L/0gAxkAAHR3bw==',
};
const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

describe('zstd decoding on every supported Node (fzstd below 22.15)', () => {
  const zstd = getCompressor('application/zstd');

  it('decodes single frames, frames without a content size, and concatenated frames', () => {
    expect(Buffer.from(zstd.decompress(b64(ZSTD.text), 1 << 20)).toString()).toBe('hello zstd '.repeat(100));
    expect(Buffer.from(zstd.decompress(b64(ZSTD.noSize), 1 << 20)).toString()).toBe('abc'.repeat(1000));
    expect(Buffer.from(zstd.decompress(b64(ZSTD.twoFrames), 1 << 20)).toString()).toBe('one,two');
    expect(zstd.decompress(b64(ZSTD.bomb), 16 << 20).length).toBe(8 << 20);
  });

  it('counts the output against the cap: a bomb stops with MessageTooLargeError', () => {
    expect(() => zstd.decompress(b64(ZSTD.bomb), 1 << 20)).toThrow(MessageTooLargeError);
    // no content size declared (and a 2 MiB window for 3 KB): stopped by counting the output
    expect(() => zstd.decompress(b64(ZSTD.noSize), 1000)).toThrow(/over the limit of 1000 bytes/);
  });

  it('corrupt and truncated input is a DecodeError naming zstd', () => {
    const text = b64(ZSTD.text);
    expect(() => zstd.decompress(text.subarray(0, text.length - 6), 1 << 20)).toThrow(/zstd: .*truncated/);
    expect(() => zstd.decompress(Buffer.from('not zstd at all'), 1 << 20)).toThrow(DecodeError);
    const flipped = Buffer.from(text);
    flipped[10] = (flipped[10] as number) ^ 0xff; // inside the compressed block's header
    expect(() => zstd.decompress(flipped, 1 << 20)).toThrow(/zstd/);
  });
});

describe('a consumer meets corrupt or oversized compressed messages', () => {
  it('rejects them, reports each, and keeps consuming', async () => {
    const conn = new Connection('memory://');
    const q = new Queue(`codec-${randomUUID().slice(0, 8)}`);
    const producer = conn.producer();
    await producer.publish({ n: 1 }, { routingKey: q.name, declare: [q], compression: 'zlib' });
    await producer.publish(Buffer.concat([Buffer.from([0x07]), Buffer.alloc(99, 0xa5)]), {
      routingKey: q.name,
      contentType: 'application/json',
      headers: { compression: 'application/x-gzip' },
    });
    await producer.publish(new Uint8Array(8 * 1024 * 1024).fill(32), { routingKey: q.name, contentType: 'application/json', compression: 'brotli' });
    await producer.publish({ n: 2 }, { routingKey: q.name, compression: 'brotli' });
    const seen: unknown[] = [];
    const errors: Error[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const consumer = conn.consumer([q], { maxDecompressedSize: 1024 * 1024 }, async (m: Message) => {
      seen.push(m.body);
      expect(m.headers['compression']).toBeDefined();
      await m.ack();
      if (seen.length === 2) done();
    });
    consumer.on('error', (e) => errors.push(e));
    await consumer.start();
    await finished;
    await consumer.stop();
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect(errors.map((e) => e.constructor)).toEqual([DecodeError, MessageTooLargeError]);
    expect(await conn.queueSize(q)).toBe(0);
    await conn.close();
  });
});
