/** `nori bench codecs --file` on a user's file and `nori bench transport redis://...`, through the real bin. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { codecCases, measureCodecs, type CodecCase } from '../src/bench/codecs.js';
import { BIN, CLI_DIR, REDIS, run, stopAll } from './bin.js';

/**
 * The bin's stderr in a terminal 80 columns wide (a pseudo-terminal from util-linux's `script`):
 * the progress frames it drew (lines and carriage returns split them; the other lines have no bar).
 */
async function framesIn80Columns(args: string[]): Promise<string[]> {
  const command = `stty cols 80 rows 24; ${[process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')} >/dev/null`;
  const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], { cwd: CLI_DIR });
  return stdout
    .split(/[\r\n]/)
    .map((f) => f.replaceAll('\x1b[K', ''))
    .filter((f) => /\[[#-]+\]/.test(f));
}

const dir = mkdtempSync(join(tmpdir(), 'nori-bench-'));
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('nori bench', () => {
  it('codecs --file prints a table of every usable codec on the file', async () => {
    const file = join(dir, 'orders.json');
    const doc = JSON.stringify({ orders: Array.from({ length: 50 }, (_, i) => ({ id: i, sku: `SKU-${i}`, qty: i % 5 })) });
    writeFileSync(file, doc);
    const r = await run(['bench', 'codecs', '--file', file, '--time', '20']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^payload\s+codec\s+bytes\s+encode MB\/s\s+decode MB\/s\s+encodes\/s$/);
    const codecs = lines.slice(1).map((l) => l.split(/\s{2,}/)[1]);
    expect(codecs).toEqual(expect.arrayContaining(['json', 'msgpack', 'yaml', 'json+zlib', 'json+gzip', 'json+brotli']));
    for (const line of lines.slice(1)) expect(line.startsWith('orders.json')).toBe(true);
    // raw takes bytes, not documents: said on stderr, not measured.
    expect(r.stderr).toContain('skipped raw');

    const json = await run(['bench', 'codecs', '--file', file, '--time', '20', '--json']);
    const out = JSON.parse(json.stdout) as { results: Array<{ codec: string; bytes: number; encodeMBps: number }> };
    const plain = out.results.find((x) => x.codec === 'json')!;
    expect(plain.bytes).toBe(doc.length);
    expect(plain.encodeMBps).toBeGreaterThan(0);
  });

  it('codecs --file on a file that is not JSON exits 2 and says why', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ nope');
    const r = await run(['bench', 'codecs', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not JSON');
  });

  it('transport redis:// prints publish and consume rates', async () => {
    const r = await run(['bench', 'transport', REDIS, '-n', '300']);
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header).toMatch(/broker\s+messages\s+bytes\s+publish msg\/s\s+consume msg\/s/);
    const cells = row!.split(/\s{2,}/);
    expect(cells[0]).toBe(REDIS);
    expect(cells[1]).toBe('300');
    expect(Number(cells[3]!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number(cells[4]!.replace(/,/g, ''))).toBeGreaterThan(0);

    const json = await run(['bench', 'transport', REDIS, '-n', '100', '--size', '1000', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ url: REDIS, count: 100, size: 1000 });
  });

  it('codecs: every case is warmed up before any is timed', () => {
    const calls: string[] = [];
    const { cases } = codecCases([['doc', { a: 1 }]]);
    const spied: CodecCase[] = cases.slice(0, 3).map((c) => ({
      ...c,
      run: (ms: number) => {
        calls.push(`${ms === 300 ? 'timed' : 'warm'} ${c.codec}`);
        return c.run(5);
      },
    }));
    const rows = measureCodecs(spied, 300);
    expect(rows.map((r) => r.codec)).toEqual(spied.map((c) => c.codec));
    expect(calls).toEqual([...spied.map((c) => `warm ${c.codec}`), ...spied.map((c) => `timed ${c.codec}`)]);
  });

  it('progress in an 80-column terminal: the whole label, one counter per bar', async () => {
    const file = join(dir, 'customer-export-2026-11-orders.json');
    writeFileSync(file, JSON.stringify({ rows: [1, 2, 3] }));
    const codecs = await framesIn80Columns(['bench', 'codecs', '--file', file, '--time', '5']);
    expect(codecs.length).toBeGreaterThan(5);
    for (const frame of codecs) {
      expect(frame.length, frame).toBeLessThan(80);
      expect(frame.match(/\d+\/\d+/g), frame).toHaveLength(1);
    }
    expect(codecs.some((f) => f.includes('customer-export-2026-11-orders.json json+brotli'))).toBe(true);

    const transport = await framesIn80Columns(['bench', 'transport', REDIS, '-n', '2000']);
    expect(transport.length).toBeGreaterThan(2);
    for (const frame of transport) {
      expect(frame.length, frame).toBeLessThan(80);
      expect(frame.match(/\d+\/\d+/g), frame).toHaveLength(1);
    }
    expect(transport.some((f) => f.startsWith('publish') && f.includes('2000/2000'))).toBe(true);
    expect(transport.some((f) => f.startsWith('consume') && f.includes('2000/2000'))).toBe(true);
  });
});
