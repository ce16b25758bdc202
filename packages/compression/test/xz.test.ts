/**
 * lzma (xz), decoding what Python's lzma module (kombu's lzma codec) writes: the size read from
 * LZMA2 chunk headers before decoding (a 200 MB bomb refused at the cap without allocating it), and
 * bad input as DecodeError — including a chunk header that understates its size, which the decoder
 * must catch so the size read up front holds.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DecodeError, getCompressor, MessageTooLargeError, UnsupportedFeatureError } from '@nori/core';
import '@nori/compression';
import { xzDecodedSize } from '../src/xz-codec.js';

const lzma = getCompressor('lzma');
const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i} of some text ${i * 7919}\n`).join(''));

/** Python's lzma.compress of stdin, `times` concatenated streams. */
function pyXz(data: Uint8Array, times = 1): Buffer {
  const code = `import lzma,sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read()) * ${times})`;
  return execFileSync('/usr/bin/python3', ['-c', code], { input: data, maxBuffer: 1 << 26 });
}

describe('lzma (xz)', () => {
  const packed = pyXz(text);

  it("decodes Python's lzma, under kombu's MIME type and the xz alias; does not encode", () => {
    expect(packed.length).toBeLessThan(text.length / 3);
    expect(xzDecodedSize(packed, 1 << 30)).toBe(text.length);
    expect(Buffer.from(getCompressor('application/x-lzma').decompress(packed, text.length)).equals(text)).toBe(true);
    expect(getCompressor('xz').decompress(pyXz(new Uint8Array(0)), 0).length).toBe(0);
    expect(() => lzma.compress(text)).toThrow(UnsupportedFeatureError);
  });

  it('a body one byte over the cap is refused; at the cap it decodes', () => {
    expect(() => lzma.decompress(packed, text.length - 1)).toThrow(MessageTooLargeError);
    expect(lzma.decompress(packed, text.length).length).toBe(text.length);
  });

  it('a 200 MB bomb (100 concatenated streams) stops at the cap before any decoding', () => {
    const bomb = pyXz(new Uint8Array(2_000_000), 100);
    expect(bomb.length).toBeLessThan(100_000);
    expect(xzDecodedSize(bomb, Infinity)).toBe(200_000_000);
    const before = process.memoryUsage().rss;
    expect(() => lzma.decompress(bomb, 16 << 20)).toThrow(/lzma: decompressed body is over the limit of 16777216 bytes/);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 << 20);
  });

  it('truncated, foreign and understating input is a DecodeError', () => {
    expect(() => lzma.decompress(packed.subarray(0, packed.length - 20), 1 << 20)).toThrow(DecodeError);
    expect(() => lzma.decompress(text, 1 << 20)).toThrow(/not an xz stream/);
    // The first LZMA2 chunk follows the 12-byte stream header and the block header; make it claim 1 byte less.
    const chunk = 12 + ((packed[12] as number) + 1) * 4;
    expect((packed[chunk] as number) & 0x80).toBe(0x80);
    const lying = Buffer.from(packed);
    lying[chunk + 2] = ((lying[chunk + 2] as number) - 1) & 0xff;
    expect(() => lzma.decompress(lying, 1 << 20)).toThrow(DecodeError);
  });
});
