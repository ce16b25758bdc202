/**
 * Serializer and compression throughput on built-in payloads or the user's own JSON file: every
 * serializer and compressor registered with @nori/core (those of @nori/msgpack, @nori/yaml and
 * @nori/compression when installed), encode and decode in MB/s of the serialized size.
 */
import { getSerializer, registeredCompressors, registeredSerializers } from '@nori/core';
import { perSecond } from './measure.js';

export interface CodecRow {
  payload: string;
  /** Serializer name, or `json+<compressor>` for compression of the JSON bytes. */
  codec: string;
  /** Encoded size in bytes. */
  bytes: number;
  encodeMBps: number;
  decodeMBps: number;
  encodeOpsPerSec: number;
}

/** A Celery protocol-2 task body ([args, kwargs, embed]), about 300 bytes as JSON. */
const celeryTask = [
  ['s3://uploads/acme/2026/11/image-0001.png', 640, 480],
  { format: 'webp', quality: 82, sizes: [320, 640, 1280], tenant: 'acme', request_id: '9f2c1e4a-7b3d-4c8e-a1f6-2d5b8e9c0a17' },
  { callbacks: null, errbacks: null, chain: null, chord: null },
];

/** An object of rows, about `bytes` long as JSON. */
export function rowsOf(bytes: number): unknown {
  const rows: unknown[] = [];
  for (let i = 0, length = 2; length < bytes; i++) {
    const row = { id: i, name: `customer ${i}`, email: `c${i}@example.com`, active: i % 3 !== 0, balance: i * 13.37 };
    rows.push(row);
    length += JSON.stringify(row).length + 1;
  }
  return { rows };
}

export function builtInPayloads(): Array<[string, unknown]> {
  return [
    ['celery task', celeryTask],
    ['10KB', rowsOf(10_000)],
    ['1MB', rowsOf(1_000_000)],
  ];
}

/** The reason `fn` throws, or undefined when it works. */
function failure(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Installs the optional codec packages that are present; returns the names of those missing. */
export async function loadCodecPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of ['@nori/msgpack', '@nori/yaml', '@nori/compression']) {
    await import(pkg).catch(() => missing.push(pkg));
  }
  return missing;
}

export interface CodecCase {
  payload: string;
  codec: string;
  run: (ms: number) => CodecRow;
}

/**
 * One case per payload and usable codec; `skipped` names the codecs that cannot run here with
 * the reason (a serializer of bytes only such as raw, zstd on a Node without it).
 */
export function codecCases(payloads: ReadonlyArray<[string, unknown]>): { cases: CodecCase[]; skipped: Map<string, string> } {
  const mb = (bytes: number, perSec: number): number => (bytes * perSec) / 1e6;
  const cases: CodecCase[] = [];
  const skipped = new Map<string, string>();
  const usable = (name: string, fn: () => unknown): boolean => {
    const reason = failure(fn);
    if (reason !== undefined) skipped.set(name, reason);
    return reason === undefined;
  };
  for (const [payload, value] of payloads) {
    for (const s of registeredSerializers().filter((s) => usable(s.name, () => s.encode(value)))) {
      cases.push({
        payload,
        codec: s.name,
        run: (ms) => {
          const encoded = s.encode(value);
          const enc = perSecond(() => s.encode(value), ms);
          const dec = perSecond(() => s.decode(encoded), ms);
          return {
            payload,
            codec: s.name,
            bytes: encoded.length,
            encodeMBps: mb(encoded.length, enc),
            decodeMBps: mb(encoded.length, dec),
            encodeOpsPerSec: enc,
          };
        },
      });
    }
    for (const c of registeredCompressors().filter((c) => usable(c.name, () => c.compress(new Uint8Array(8))))) {
      cases.push({
        payload,
        codec: `json+${c.name}`,
        run: (ms) => {
          const json = getSerializer('json').encode(value);
          const packed = c.compress(json);
          // Throughput of compression is counted on the bytes it is given (the JSON), as zlib tools do.
          const enc = perSecond(() => c.compress(json), ms);
          const dec = perSecond(() => c.decompress(packed, json.length * 2), ms);
          return {
            payload,
            codec: `json+${c.name}`,
            bytes: packed.length,
            encodeMBps: mb(json.length, enc),
            decodeMBps: mb(json.length, dec),
            encodeOpsPerSec: enc,
          };
        },
      });
    }
  }
  return { cases, skipped };
}

/**
 * Runs every case, each for about `ms`, after warming every one up first: the first codec timed
 * would otherwise pay for the JIT and the heap growing (it measured several times slower).
 * `onCase` is called before each run, warm-ups included.
 */
export function measureCodecs(cases: readonly CodecCase[], ms: number, onCase?: (c: CodecCase, warmUp: boolean) => void): CodecRow[] {
  const warmUp = Math.max(1, Math.min(50, ms / 5));
  for (const c of cases) {
    onCase?.(c, true);
    c.run(warmUp);
  }
  return cases.map((c) => {
    onCase?.(c, false);
    return c.run(ms);
  });
}
