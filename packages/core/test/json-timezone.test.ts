/**
 * A naive datetime from kombu's JSON (Python's `datetime.utcnow().isoformat()`) is UTC, whatever
 * the reader's time zone. The machines that run the suite are on UTC, where reading it as local
 * time gives the same instant; this file pins a zone with an offset so that mistake shows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { json, jsonPlain } from '@nori/core';

const previous = process.env['TZ'];
beforeAll(() => {
  process.env['TZ'] = 'America/New_York'; // Node re-reads TZ on assignment
});
afterAll(() => {
  if (previous === undefined) delete process.env['TZ'];
  else process.env['TZ'] = previous;
});

const decode = (text: string): unknown => json.decode(new TextEncoder().encode(text));

it('the zone is really pinned (New York is five hours behind UTC in January)', () => {
  expect(new Date(2024, 0, 15, 12).getTimezoneOffset()).toBe(300);
});

it('a naive datetime tag is read as UTC, not local time', () => {
  const v = decode(JSON.stringify({ dt: { __type__: 'datetime', __value__: '2024-01-15T10:30:00.123456' } })) as { dt: Date };
  expect(v.dt.toISOString()).toBe('2024-01-15T10:30:00.123Z');
});

it('a datetime with an offset keeps it, and what nori writes reads back as the same instant', () => {
  const v = decode(JSON.stringify({ dt: { __type__: 'datetime', __value__: '2024-01-15T12:30:00+02:00' } })) as { dt: Date };
  expect(v.dt.toISOString()).toBe('2024-01-15T10:30:00.000Z');
  const when = new Date(Date.UTC(2024, 6, 1, 23, 59, 58, 250));
  expect((json.decode(json.encode({ when })) as { when: Date }).when.getTime()).toBe(when.getTime());
  expect(new TextDecoder().decode(jsonPlain.encode({ when }))).toBe('{"when":"2024-07-01T23:59:58.250+00:00"}');
});
