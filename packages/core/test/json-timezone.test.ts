/**
 * A naive datetime from kombu's JSON (Python's `datetime.utcnow().isoformat()`) is UTC, whatever
 * the reader's time zone. The machines that run the suite are on UTC, where reading it as local
 * time gives the same instant, so the decoding runs in a child process with a zone that has an
 * offset (setting process.env.TZ inside a test worker does not reach every pool's clock).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

const CHILD = `
import('@nori/core').then(({ json, jsonPlain }) => {
  const decode = (value) => json.decode(new TextEncoder().encode(JSON.stringify({ dt: { __type__: 'datetime', __value__: value } }))).dt.toISOString();
  const when = new Date(Date.UTC(2024, 6, 1, 23, 59, 58, 250));
  process.stdout.write(JSON.stringify({
    offset: new Date(2024, 0, 15, 12).getTimezoneOffset(),
    naive: decode('2024-01-15T10:30:00.123456'),
    zoned: decode('2024-01-15T12:30:00+02:00'),
    roundTrip: json.decode(json.encode({ when })).when.getTime() === when.getTime(),
    plain: new TextDecoder().decode(jsonPlain.encode({ when })),
  }));
});`;

it('kombu datetimes decode to the same instants in New York as in UTC', async () => {
  const { stdout } = await run(process.execPath, ['--conditions=nori-src', '--import', 'tsx', '-e', CHILD], {
    cwd: repoRoot,
    env: { ...process.env, TZ: 'America/New_York' },
    timeout: 20_000,
  });
  expect(JSON.parse(stdout)).toEqual({
    offset: 300, // the zone really is pinned: five hours behind UTC in January
    naive: '2024-01-15T10:30:00.123Z', // a naive datetime is UTC, not local time
    zoned: '2024-01-15T10:30:00.000Z',
    roundTrip: true,
    plain: '{"when":"2024-07-01T23:59:58.250+00:00"}',
  });
});
