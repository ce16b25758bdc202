/** The README's consumer example, run as written on memory:// and on Redis. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { redisUrl } from '@nori/testing/brokers';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

it.each(['memory://', redisUrl()])('the consumer example: schema, retry, spans and await using on %s', async (url) => {
  const { stdout } = await run(process.execPath, ['--conditions=nori-src', '--import', 'tsx', 'examples/consumer.ts', url], { cwd: root, timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('shipped')).sort()).toEqual(['shipped order 1 (A-1) on attempt 2', 'shipped order 3 (C-3) on attempt 1']);
  expect(lines.filter((l) => l.startsWith('error event')).sort()).toEqual([
    'error event: Error: warehouse busy',
    expect.stringMatching(/^error event: SchemaValidationError: a message on queue "example-orders-[0-9a-f]+" failed schema validation$/),
  ]);
  expect(lines.filter((l) => l.startsWith('span')).sort()).toEqual([
    ...Array.from({ length: 3 }, () => 'span process orders <- publish orders'),
    ...Array.from({ length: 3 }, () => 'span publish orders'),
  ]);
});
