/** `nori bench codecs --file` on a user's file and `nori bench transport redis://...`, through the real bin. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS, run, stopAll } from './bin.js';

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
});
