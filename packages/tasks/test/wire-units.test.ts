/**
 * Celery's units and times at the wire edge, on their own: seconds ↔ ms (None for no value),
 * UNIX seconds, Python's `isoformat()` of an aware datetime in UTC and in another zone (the
 * zone's offset, microseconds), naive wire times read as UTC, and unknown zones refused.
 */
import { describe, expect, it } from 'vitest';
import { TaskConfigError } from '@nori/tasks';
import { fromSeconds, fromWireTime, msOrUndefined, secondsOrNull, toSeconds, toWireTime, unixSeconds } from '@nori/tasks/protocol';
import { checkTimezone } from '../src/protocol/time.js';

describe('units', () => {
  it('converts ms to seconds and back; no value is None on the wire and undefined here', () => {
    expect(toSeconds(1500)).toBe(1.5);
    expect(fromSeconds(1.5)).toBe(1500);
    expect(secondsOrNull(2500)).toBe(2.5);
    expect(secondsOrNull(0)).toBe(0);
    expect(secondsOrNull(undefined)).toBeNull();
    expect(msOrUndefined(2.5)).toBe(2500);
    expect(msOrUndefined('3')).toBe(3000);
    expect(msOrUndefined(0)).toBe(0);
    expect(msOrUndefined(null)).toBeUndefined();
    expect(msOrUndefined(undefined)).toBeUndefined();
    expect(unixSeconds(1_700_000_000_123)).toBe(1_700_000_000.123);
    const before = Date.now() / 1000;
    const now = unixSeconds();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThan(before + 5);
  });
});

describe('wire times', () => {
  const at = new Date(Date.UTC(2026, 6, 1, 12, 0, 5, 7));

  it("writes Python's isoformat(): microseconds and the offset, in UTC or the App's zone", () => {
    expect(toWireTime(at)).toBe('2026-07-01T12:00:05.007000+00:00');
    expect(toWireTime(at, 'UTC')).toBe('2026-07-01T12:00:05.007000+00:00');
    expect(toWireTime(at, 'America/New_York')).toBe('2026-07-01T08:00:05.007000-04:00');
    expect(toWireTime(new Date(Date.UTC(2026, 0, 1, 0, 30)), 'Asia/Kolkata')).toBe('2026-01-01T06:00:00.000000+05:30');
    // UTC+0 zones under other names (some ICU versions name their offset a bare "GMT").
    expect(toWireTime(at, 'Etc/GMT')).toBe('2026-07-01T12:00:05.007000+00:00');
    expect(toWireTime(at, 'Atlantic/Reykjavik')).toBe('2026-07-01T12:00:05.007000+00:00');
  });

  it('reads aware times with their offset and naive ones as UTC; nothing, blank or garbage is undefined', () => {
    expect(fromWireTime('2026-07-01T08:00:05.007000-04:00')?.getTime()).toBe(at.getTime());
    expect(fromWireTime('2026-07-01T12:00:05.007')?.getTime()).toBe(at.getTime());
    expect(fromWireTime('2026-07-01T12:00:05.007Z')?.getTime()).toBe(at.getTime());
    for (const absent of [undefined, null, '', 2026, 'soon']) expect(fromWireTime(absent), String(absent)).toBeUndefined();
  });

  it('refuses a zone the runtime does not know, naming it, and keeps refusing it', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => checkTimezone('Mars/Olympus_Mons')).toThrow(new TaskConfigError('unknown timezone "Mars/Olympus_Mons"'));
      expect(() => checkTimezone('Mars/Olympus_Mons')).toThrow(expect.objectContaining({ cause: expect.any(RangeError) }));
      expect(() => toWireTime(at, 'Mars/Olympus_Mons')).toThrow(TaskConfigError);
    }
    expect(() => checkTimezone('Europe/Paris')).not.toThrow();
    expect(() => checkTimezone('Europe/Paris')).not.toThrow();
  });
});
