/**
 * The file fault-guard.test.ts runs in a child vitest to see whether the guard let it run: its
 * hook and test each leave a line in the file PROBE_MARKER names. Under `npm test` (no marker) it
 * is a fault test that passes.
 */
import { appendFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';

const marker = process.env['PROBE_MARKER'];

beforeAll(() => {
  if (marker) appendFileSync(marker, 'beforeAll\n');
});

it('runs', () => {
  if (marker) appendFileSync(marker, 'test\n');
  expect(true).toBe(true);
});
