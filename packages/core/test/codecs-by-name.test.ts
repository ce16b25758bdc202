/**
 * Serializers and compression codecs load by name, like transports: a program that imports only
 * @nori/core gets msgpack, yaml and brotli from their installed packages on first use. Run in a
 * child process with Node's own resolution, so nothing registered them beforehand.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function inChild(script: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--conditions=nori-src', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../../..', import.meta.url).pathname,
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

describe('codecs loaded by name', () => {
  it('serializer, accept list and compression load their packages on first use, with no import', async () => {
    const result = await inChild(`
      import { Connection, findSerializer, findCompressor } from '@nori/core';
      const before = [findSerializer('msgpack'), findSerializer('yaml'), findCompressor('brotli')].map(Boolean);
      const conn = new Connection('memory://');
      const q = conn.simpleQueue('by-name', { accept: ['msgpack', 'yaml'] });
      await conn.producer({ serializer: 'msgpack', compression: 'brotli' }).publish({ n: 1, when: new Date(0) }, { routingKey: 'by-name', declare: [q.queue] });
      await conn.producer({ serializer: 'yaml' }).publish({ n: 2 }, { routingKey: 'by-name' });
      const got = [];
      for (let i = 0; i < 2; i++) { const m = await q.get({ timeout: 2000 }); got.push([m.contentType, m.headers.compression ?? null, m.body]); await m.ack(); }
      await conn.close();
      console.log(JSON.stringify({ before, got }));`);
    expect(result).toEqual({
      before: [false, false, false],
      got: [
        ['application/x-msgpack', 'application/x-brotli', { n: 1, when: '1970-01-01T00:00:00.000Z' }],
        ['application/x-yaml', null, { n: 2 }],
      ],
    });
  });

  it('a consumer whose accept list names a serializer loads it at start()', async () => {
    const result = await inChild(`
      import { Connection, findSerializer } from '@nori/core';
      const conn = new Connection('memory://');
      const consumer = conn.consumer(['by-name-consumer'], { accept: ['yaml'] }, async () => {});
      await consumer.start();
      console.log(JSON.stringify({ yaml: findSerializer('application/x-yaml')?.name ?? null }));
      await conn.close();`);
    expect(result).toEqual({ yaml: 'yaml' });
  });
});
