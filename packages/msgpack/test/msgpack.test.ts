import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError, getSerializer } from '@nori/core';
import { msgpack, msgpackRecords } from '@nori/msgpack';
import { unpack } from 'msgpackr';

describe('msgpack', () => {
  const value = { n: 1, f: 1.5, s: 'héllo', list: [1, null, true], when: new Date('2024-05-01T10:30:00.123Z'), raw: Buffer.from([0, 255]) };

  it('is registered under its name and kombu’s content type', () => {
    expect(getSerializer('msgpack')).toBe(msgpack);
    expect(getSerializer('application/x-msgpack')).toBe(msgpack);
    expect(msgpack.contentEncoding).toBe('binary');
  });

  it('round-trips, dates and binary included', () => {
    const back = msgpack.decode(msgpack.encode(value)) as typeof value;
    expect(back).toEqual({ ...value, raw: expect.any(Uint8Array) });
    expect([...back.raw]).toEqual([0, 255]);
    expect(back.when).toEqual(value.when);
  });

  it('writes standard MessagePack: no record extension by default, records only in msgpack-records', () => {
    const rows = [
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ];
    const standard = Buffer.from(msgpack.encode(rows));
    expect(standard[0]).toBe(0x92); // fixarray of 2
    expect(standard[1]).toBe(0xde); // map16: a plain map, not msgpackr's record extension
    expect(msgpackRecords.contentType).toBe('application/x-nori-msgpack-records');
    expect(msgpackRecords.decode(msgpackRecords.encode(rows))).toEqual(rows);
    expect(unpack(standard)).toEqual(rows);
  });

  it('malformed input is a DecodeError; functions are an EncodeError', () => {
    expect(() => msgpack.decode(new Uint8Array([0xd9]))).toThrow(DecodeError);
    expect(() => msgpack.decode(new Uint8Array([0x92, 0x01]))).toThrow(DecodeError);
    expect(() => msgpack.encode({ f: () => 1 })).toThrow(EncodeError);
  });
});
