import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError, getSerializer, json, jsonPlain } from '@nori/core';

const enc = (s: typeof json, v: unknown): string => new TextDecoder().decode(s.encode(v));
const dec = (s: typeof json, text: string): unknown => s.decode(new TextEncoder().encode(text));

describe('kombu JSON type tags', () => {
  it('writes kombu 5.3+ tags for Date, bytes and bigint', () => {
    const when = new Date('2024-05-01T10:30:00.250Z');
    expect(JSON.parse(enc(json, { when, raw: Buffer.from('hi'), bin: new Uint8Array([0xff, 0x00]), n: 12345678901234567890n }))).toEqual({
      when: { __type__: 'datetime', __value__: '2024-05-01T10:30:00.250+00:00' },
      raw: { __type__: 'bytes', __value__: 'hi' },
      bin: { __type__: 'base64', __value__: '/wA=' },
      n: { __type__: 'decimal', __value__: '12345678901234567890' },
    });
  });

  it('encodeText is encode as a string, tags and errors included (with and without tags)', () => {
    const body = { when: new Date('2024-05-01T10:30:00.250Z'), bin: new Uint8Array([0xff, 0x00]), n: 7n, text: 'héllo \ud83d\ude00' };
    for (const s of [json, jsonPlain]) {
      expect(s.encodeText?.(body)).toBe(enc(s, body));
      expect(() => s.encodeText?.({ f: () => 1 })).toThrow(EncodeError);
    }
  });

  it('reads what kombu 5.3 writes', () => {
    const text = JSON.stringify({
      dt: { __type__: 'datetime', __value__: '2024-05-01T10:30:00.123456' },
      dtz: { __type__: 'datetime', __value__: '2024-05-01T12:30:00+02:00' },
      d: { __type__: 'date', __value__: '2024-05-01' },
      t: { __type__: 'time', __value__: '10:30:00' },
      dec: { __type__: 'decimal', __value__: '3.14159265358979323846' },
      id: { __type__: 'uuid', __value__: { hex: '0f8fad5bd9cb469fa16570867728950e' } },
      b: { __type__: 'bytes', __value__: 'héllo' },
      b64: { __type__: 'base64', __value__: '/wA=' },
      nested: [{ __type__: 'date', __value__: '2020-01-02' }],
      notATag: { __type__: 'x', __value__: 1, extra: true },
    });
    const v = dec(json, text) as Record<string, unknown>;
    expect(v['dt']).toEqual(new Date('2024-05-01T10:30:00.123Z'));
    expect(v['dtz']).toEqual(new Date('2024-05-01T10:30:00Z'));
    expect(v['d']).toBe('2024-05-01');
    expect(v['t']).toBe('10:30:00');
    expect(v['dec']).toBe('3.14159265358979323846');
    expect(v['id']).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(Buffer.from(v['b'] as Uint8Array).toString('utf8')).toBe('héllo');
    expect([...(v['b64'] as Uint8Array)]).toEqual([0xff, 0x00]);
    expect(v['nested']).toEqual(['2020-01-02']);
    expect(v['notATag']).toEqual({ __type__: 'x', __value__: 1, extra: true });
  });

  it('an unknown tag is a DecodeError, as in kombu', () => {
    expect(() => dec(json, '{"__type__": "pickle", "__value__": "x"}')).toThrow(DecodeError);
  });

  it('looks tags up by own property: Object.prototype names are unknown tags, not decoders', () => {
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__']) {
      for (const serializer of [json, jsonPlain]) {
        expect(() => dec(serializer, `{"__type__": ${JSON.stringify(name)}, "__value__": "x"}`), name).toThrow(DecodeError);
      }
    }
  });

  it('round-trips Date and bytes through the tags', () => {
    const value = { when: new Date('2001-02-03T04:05:06.007Z'), data: Buffer.from([1, 2, 3]), list: [1, 'two', null] };
    const back = dec(json, enc(json, value)) as typeof value;
    expect(back.when).toEqual(value.when);
    expect([...back.data]).toEqual([1, 2, 3]);
    expect(back.list).toEqual([1, 'two', null]);
  });

  it('json-plain writes no tags (for kombu 5.2) and still reads them', () => {
    expect(JSON.parse(enc(jsonPlain, { when: new Date('2024-05-01T10:30:00Z'), raw: Buffer.from('hi') }))).toEqual({
      when: '2024-05-01T10:30:00.000+00:00',
      raw: 'hi',
    });
    expect(dec(jsonPlain, '{"__type__": "decimal", "__value__": "1.5"}')).toBe('1.5');
    expect(jsonPlain.contentType).toBe('application/json');
  });

  it('is the registered serializer for application/json', () => {
    expect(getSerializer('json')).toBe(json);
    expect(getSerializer('application/json')).toBe(json);
    expect(getSerializer('json-plain')).toBe(jsonPlain);
  });
});

describe('JSON errors name what failed', () => {
  it('refuses functions, symbols, circular objects, invalid dates and top-level undefined', () => {
    const circular: Record<string, unknown> = {};
    circular['me'] = circular;
    expect(() => json.encode({ a: { fn: () => 1 } })).toThrow(/function at key "fn"/);
    expect(() => json.encode({ s: Symbol('x') })).toThrow(EncodeError);
    expect(() => json.encode(circular)).toThrow(/circular/i);
    expect(() => json.encode({ d: new Date('nope') })).toThrow(/invalid Date/);
    expect(() => json.encode(undefined)).toThrow(EncodeError);
  });
  it('refuses a Map and a Set, which JSON.stringify would write as {} (every entry lost)', () => {
    for (const serializer of [json, jsonPlain]) {
      expect(() => serializer.encode({ m: new Map([['a', 1]]) })).toThrow(/Map at key "m"/);
      expect(() => serializer.encode([new Set([1])])).toThrow(/Set at key "0"/);
      expect(() => serializer.encode(new Map())).toThrow(/Map at key "\(root\)"/);
      expect(() => serializer.encodeText?.({ deep: { s: new Set() } })).toThrow(EncodeError);
    }
  });
  it('invalid JSON and invalid utf-8 are DecodeErrors', () => {
    expect(() => dec(json, '{"a": ')).toThrow(DecodeError);
    expect(() => json.decode(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/utf-8/);
  });
});
