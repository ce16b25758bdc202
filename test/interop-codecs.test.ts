/**
 * Codec vectors both ways with Python kombu 5.2 (Debian's python3-kombu, python3-msgpack,
 * python3-yaml, python3-brotli; bzip2 and lzma from Python's standard library): bytes kombu's serializers and compressors produce decode in nori
 * to the documented JS values, and nori's output decodes in Python to the same values.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeBody, getCompressor, getSerializer, MessageTooLargeError } from '@nori/core';
import '@nori/msgpack';
import '@nori/yaml';
import '@nori/compression';
import { PYTHON } from '@nori/testing/kombu';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./python/kombu_codecs.py', import.meta.url));

interface Vector {
  serializer: string;
  compression: string | null;
  content_type: string;
  content_encoding: string;
  data: string;
}

/** The shape both sides compare: Date → {datetime}, bytes → {bytes: hex}. */
function normalise(v: unknown): unknown {
  if (v instanceof Date) return { datetime: v.toISOString() };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

const common = { int: 42, float: 1.5, str: 'héllo', list: [1, 'a', null, true], nested: { a: { b: [1, 2] } } };

describe('Python kombu 5.2 → nori', async () => {
  const { stdout } = await run(PYTHON, [script, 'make'], { maxBuffer: 10 * 1024 * 1024 });
  const vectors = JSON.parse(stdout) as Vector[];
  const expected: Record<string, unknown> = {
    // kombu 5.2 writes no type tags: datetimes, decimals and UUIDs arrive as plain strings.
    json: { ...common, when: '2024-05-01T10:30:00Z', amount: '3.14', id: '0f8fad5b-d9cb-469f-a165-70867728950e' },
    msgpack: { ...common, raw: { bytes: '00ff10' } },
    yaml: { ...common, raw: { bytes: '00ff10' }, when: { datetime: '2024-05-01T10:30:00.000Z' } },
  };

  it('kombu produced vectors for every serializer and for zlib, bzip2, lzma, brotli, zstd', () => {
    expect(new Set(vectors.map((v) => v.serializer))).toEqual(new Set(['json', 'msgpack', 'yaml']));
    expect(new Set(vectors.map((v) => v.compression))).toEqual(
      new Set([null, 'application/x-gzip', 'application/x-bz2', 'application/x-lzma', 'application/x-brotli', 'application/zstd']),
    );
  });

  for (const codec of [null, 'application/x-gzip', 'application/x-brotli', 'application/x-bz2', 'application/zstd', 'application/x-lzma']) {
    // zstd included: node:zlib on Node ≥ 22.15, fzstd below.
    it(`decodes kombu's json, msgpack and yaml${codec ? ` compressed as ${codec}` : ''}`, () => {
      for (const v of vectors.filter((x) => x.compression === codec)) {
        let data: Uint8Array = Buffer.from(v.data, 'base64');
        if (v.compression) data = getCompressor(v.compression).decompress(data, 1 << 20);
        expect(normalise(getSerializer(v.content_type).decode(data)), v.serializer).toEqual(expected[v.serializer]);
      }
    });
  }

  it("a 200 MB bomb of kombu's lzma stops at the cap, before decoding", async () => {
    const { stdout: bomb } = await run(PYTHON, [script, 'lzma-bomb'], { maxBuffer: 10 * 1024 * 1024 });
    const data = Buffer.from(bomb.trim(), 'base64');
    expect(data.length).toBeLessThan(1 << 20);
    const before = process.memoryUsage().rss;
    expect(() => getCompressor('application/x-lzma').decompress(data, 16 << 20)).toThrow(MessageTooLargeError);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 << 20);
  });
});

describe('nori → Python kombu 5.2', () => {
  it('kombu decodes what nori encodes, with every codec both sides have', async () => {
    const when = new Date('2024-05-01T10:30:00Z');
    const raw = new Uint8Array([0x00, 0xff, 0x10]);
    const values: Record<string, unknown> = {
      'json-plain': { ...common, when },
      msgpack: { ...common, when, raw },
      yaml: { ...common, when, raw },
    };
    const vectors: Vector[] = [];
    for (const [serializer, value] of Object.entries(values)) {
      for (const compression of [undefined, 'zlib', 'brotli']) {
        const e = encodeBody(value, { serializer, ...(compression && { compression }) }, 'json');
        vectors.push({
          serializer,
          compression: e.compression ?? null,
          content_type: e.contentType,
          content_encoding: e.contentEncoding,
          data: Buffer.from(e.body).toString('base64'),
        });
      }
    }
    const file = join(mkdtempSync(join(tmpdir(), 'nori-vectors-')), 'vectors.json');
    writeFileSync(file, JSON.stringify(vectors));
    const { stdout } = await run(PYTHON, [script, 'read', file]);
    const decoded = JSON.parse(stdout) as unknown[];
    const pyCommon = { ...common };
    const expected: Record<string, unknown> = {
      // json-plain writes the ISO string kombu 5.2 can keep as a string.
      'json-plain': { ...pyCommon, when: '2024-05-01T10:30:00.000+00:00' },
      msgpack: { ...pyCommon, when: { datetime: '2024-05-01T10:30:00+00:00' }, raw: { bytes: '00ff10' } },
      yaml: { ...pyCommon, when: { datetime: '2024-05-01T10:30:00+00:00' }, raw: { bytes: '00ff10' } },
    };
    expect(decoded).toHaveLength(vectors.length);
    vectors.forEach((v, i) => expect(decoded[i], `${v.serializer} ${v.compression}`).toEqual(expected[v.serializer]));
  });
});
