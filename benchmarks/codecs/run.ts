/**
 * Serializer and compression throughput: each nori codec beside the raw library call it wraps,
 * in the same run. Payloads: a Celery task message (~300 B), a 10 KB object, a 1 MB object, and
 * optionally your own JSON file. bzip2 is decompression only (nori reads it, does not write it).
 *   pnpm bench:codecs [--file payload.json] [--runs 5] [--json out.json] [--only 10KB]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { deflateSync, gzipSync, gunzipSync, inflateSync, unzlibSync, zlibSync } from 'fflate';
import { dump as yamlDump, load as yamlLoad, YAML11_SCHEMA } from 'js-yaml';
import { Packr } from 'msgpackr';
import { getCompressor, getSerializer } from '@nori/core';
import '@nori/compression';
import '@nori/msgpack';
import '@nori/yaml';
import { Bench } from '../lib/harness.js';
import { packageVersion as version, stringArg as arg } from '../lib/workload.js';

function object(bytes: number): unknown {
  const rows: unknown[] = [];
  let i = 0;
  while (JSON.stringify(rows).length < bytes) {
    rows.push({ id: i, name: `customer ${i}`, email: `c${i}@example.com`, active: i % 3 !== 0, balance: i * 13.37, tags: ['a', 'b', String(i % 7)] });
    i++;
  }
  return { rows };
}

/** A Celery protocol-2 task body ([args, kwargs, embed]) of about 300 bytes, as Celery serializes it. */
const celeryTask = [
  ['s3://uploads/acme/2026/11/image-0001.png', 640, 480],
  { format: 'webp', quality: 82, sizes: [320, 640, 1280], tenant: 'acme', request_id: '9f2c1e4a-7b3d-4c8e-a1f6-2d5b8e9c0a17', notify: 'ops@acme.example' },
  { callbacks: null, errbacks: null, chain: null, chord: null, parent_id: 'c81b2a4e-5d7f-4f3a-9e06-b1c2d3e4f5a6' },
];
const payloads: Array<[string, unknown]> = [
  ['celery task', celeryTask],
  ['10KB', object(10_000)],
  ['1MB', object(1_000_000)],
];
const file = arg('file');
if (file) payloads.push([file, JSON.parse(readFileSync(file, 'utf8')) as unknown]);
const only = arg('only');

const bench = new Bench('codecs', {
  payloads: Object.fromEntries(payloads.map(([n, v]) => [n, `${JSON.stringify(v).length} B as JSON`])),
  msgpackr: version('msgpackr'),
  'js-yaml': version('js-yaml'),
  fflate: version('fflate'),
  zlib: process.versions.zlib,
});

/** seek-bzip is CommonJS without types; @nori/compression loads it the same way. */
const bunzip = createRequire(import.meta.resolve('@nori/compression'))('seek-bzip') as { decode(input: Uint8Array): Uint8Array };
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
/**
 * A run of `fn` repeated often enough to take ~150 ms (calibrated after a warm-up), returning
 * `units` per call: a 300-byte encode takes about a microsecond, far too short to time alone.
 */
function repeated(fn: () => void, units: number): () => Promise<number> {
  for (let i = 0; i < 3; i++) fn();
  let calls = 0;
  const start = performance.now();
  do {
    fn();
    calls++;
  } while (performance.now() - start < 30);
  const n = Math.max(1, Math.round((calls * 150) / (performance.now() - start)));
  return async () => {
    for (let i = 0; i < n; i++) fn();
    return n * units;
  };
}

interface RawCodec {
  /** kombu's codec name, and the library and calls nori's implementations are compared with. */
  codec: string;
  lib: string;
  calls: string;
  /** Absent for a codec nori only reads: its input is made once by the bzip2 tool. */
  compress?: (d: Uint8Array) => Uint8Array;
  decompress: (d: Uint8Array) => Uint8Array;
  nori: string[];
}

const rawCodecs: RawCodec[] = [
  {
    codec: 'zlib',
    lib: 'node:zlib',
    calls: 'deflateSync/inflateSync',
    compress: (d) => zlib.deflateSync(d),
    decompress: (d) => zlib.inflateSync(d),
    nori: ['zlib-node', 'zlib-fflate'],
  },
  { codec: 'zlib', lib: 'fflate', calls: 'zlibSync/unzlibSync', compress: (d) => zlibSync(d), decompress: (d) => unzlibSync(d), nori: ['zlib-fflate'] },
  {
    codec: 'gzip',
    lib: 'node:zlib',
    calls: 'gzipSync/gunzipSync',
    compress: (d) => zlib.gzipSync(d),
    decompress: (d) => zlib.gunzipSync(d),
    nori: ['gzip-node', 'gzip-fflate'],
  },
  { codec: 'gzip', lib: 'fflate', calls: 'gzipSync/gunzipSync', compress: (d) => gzipSync(d), decompress: (d) => gunzipSync(d), nori: ['gzip-fflate'] },
  {
    codec: 'deflate',
    lib: 'node:zlib',
    calls: 'deflateRawSync/inflateRawSync',
    compress: (d) => zlib.deflateRawSync(d),
    decompress: (d) => zlib.inflateRawSync(d),
    nori: ['deflate-node', 'deflate-fflate'],
  },
  {
    codec: 'deflate',
    lib: 'fflate',
    calls: 'deflateSync/inflateSync',
    compress: (d) => deflateSync(d),
    decompress: (d) => inflateSync(d),
    nori: ['deflate-fflate'],
  },
  {
    codec: 'brotli',
    lib: 'node:zlib',
    calls: 'brotliCompressSync/brotliDecompressSync',
    compress: (d) => zlib.brotliCompressSync(d),
    decompress: (d) => zlib.brotliDecompressSync(d),
    nori: ['brotli'],
  },
  { codec: 'bzip2', lib: 'seek-bzip', calls: 'Bunzip.decode', decompress: (d) => bunzip.decode(d), nori: ['bzip2'] },
];

for (const [label, value] of payloads) {
  if (only && label !== only) continue;
  const size = JSON.stringify(value).length;
  const rawSerializers: Record<string, { encode: (v: unknown) => Uint8Array; decode: (b: Uint8Array) => unknown; raw: string }> = {
    json: { encode: (v) => Buffer.from(JSON.stringify(v)), decode: (b) => JSON.parse(Buffer.from(b).toString('utf8')), raw: 'JSON.stringify/parse' },
    msgpack: { encode: (v) => packr.pack(v), decode: (b) => packr.unpack(b), raw: 'msgpackr pack/unpack' },
    yaml: {
      encode: (v) => Buffer.from(yamlDump(v, { noRefs: true })),
      decode: (b) => yamlLoad(Buffer.from(b).toString('utf8'), { schema: YAML11_SCHEMA }),
      raw: 'js-yaml dump/load',
    },
  };
  for (const [name, raw] of Object.entries(rawSerializers)) {
    if (name === 'yaml' && size > 100_000) continue; // js-yaml on 1 MB takes seconds per call
    const nori = getSerializer(name);
    const encoded = nori.encode(value);
    bench.add({ group: `${label}: ${name} encode`, name: raw.raw, baseline: true, unit: 'ops/s', run: repeated(() => raw.encode(value), 1) });
    bench.add({ group: `${label}: ${name} encode`, name: `nori ${name}`, unit: 'ops/s', run: repeated(() => nori.encode(value), 1) });
    bench.add({ group: `${label}: ${name} decode`, name: raw.raw, baseline: true, unit: 'ops/s', run: repeated(() => raw.decode(encoded), 1) });
    bench.add({ group: `${label}: ${name} decode`, name: `nori ${name}`, unit: 'ops/s', run: repeated(() => nori.decode(encoded), 1) });
  }

  const data = getSerializer('json').encode(value);
  for (const raw of rawCodecs) {
    const packed = raw.compress ? raw.compress(data) : execFileSync('bzip2', ['-c'], { input: data, maxBuffer: 1 << 30 });
    const group = (what: string): string => `${label}: ${raw.lib} ${raw.codec} ${what}`;
    const loop = (fn: () => void): (() => Promise<number>) => repeated(fn, data.length);
    const ratio = `ratio ${(packed.length / data.length).toFixed(3)}`;
    const compress = raw.compress;
    if (compress)
      bench.add({ group: group('compress'), name: `${raw.calls} (${ratio})`, baseline: true, unit: 'MB/s', scale: 1e-6, run: loop(() => compress(data)) });
    bench.add({
      group: group('decompress'),
      name: `${raw.calls}${compress ? '' : ` (${ratio}, bzip2 -9)`}`,
      baseline: true,
      unit: 'MB/s',
      scale: 1e-6,
      run: loop(() => raw.decompress(packed)),
    });
    for (const noriName of raw.nori) {
      const c = getCompressor(noriName);
      // What nori decompresses is what it compresses, except for a codec it only reads.
      const mine = compress ? c.compress(data) : packed;
      if (compress)
        bench.add({
          group: group('compress'),
          name: `nori ${noriName} (ratio ${(mine.length / data.length).toFixed(3)})`,
          unit: 'MB/s',
          scale: 1e-6,
          run: loop(() => c.compress(data)),
        });
      bench.add({ group: group('decompress'), name: `nori ${noriName}`, unit: 'MB/s', scale: 1e-6, run: loop(() => c.decompress(mine, 64 * 1024 * 1024)) });
    }
  }
}

await bench.run();
