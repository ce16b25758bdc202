/** JSON edges the mutation run found unasserted (docs/mutants.md). */
import { expect, it } from 'vitest';
import { DecodeError, EncodeError, json } from '@nori/core';

const enc = (v: unknown): string => new TextDecoder().decode(json.encode(v));
const dec = (text: string): unknown => json.decode(new TextEncoder().encode(text));

it('a bigint alone (no Date or bytes beside it) is still tagged as a decimal', () => {
  expect(JSON.parse(enc({ n: 10n ** 20n }))).toEqual({ n: { __type__: 'decimal', __value__: '100000000000000000000' } });
  expect(JSON.parse(enc([1n]))).toEqual([{ __type__: 'decimal', __value__: '1' }]);
});

it('nulls in a body, or a null body, are written as null', () => {
  expect(enc(null)).toBe('null');
  expect(enc({ a: null, b: [null, { c: null }] })).toBe('{"a":null,"b":[null,{"c":null}]}');
});

it('what JSON cannot hold is an EncodeError that says what and where, with the cause', () => {
  expect(() => enc({ a: { s: Symbol('x') } })).toThrow(/^cannot serialize a symbol at key "s"$/);
  expect(() => enc([Symbol('x')])).toThrow(/^cannot serialize a symbol at key "0"$/);
  expect(() => enc(undefined)).toThrow(/^cannot serialize undefined as JSON$/);
  const circular: Record<string, unknown> = { when: new Date(0) };
  circular['self'] = circular;
  const error = (() => {
    try {
      enc(circular);
    } catch (e) {
      return e as EncodeError;
    }
  })();
  expect(error).toBeInstanceOf(EncodeError);
  expect(error?.message).toMatch(/^cannot serialize body as JSON: /);
  expect(error?.cause).toBeInstanceOf(TypeError);
});

it('uuid tags: a plain string is accepted, anything but 32 hex digits is a DecodeError', () => {
  expect(dec('{"id": {"__type__": "uuid", "__value__": "0F8FAD5B-D9CB-469F-A165-70867728950E"}}')).toEqual({ id: '0f8fad5b-d9cb-469f-a165-70867728950e' });
  for (const bad of [null, 42, 'xyz', '0f8fad5bd9cb469fa16570867728950e00', '00f8fad5bd9cb469fa16570867728950e'.slice(0, 31) + 'g']) {
    expect(() => dec(JSON.stringify({ id: { __type__: 'uuid', __value__: bad } }))).toThrow(/invalid uuid/);
  }
});

it('datetime tags: an offset without a colon is an offset; an unreadable one is a DecodeError', () => {
  expect((dec('{"t": {"__type__": "datetime", "__value__": "2024-05-01T12:30:00+0200"}}') as { t: Date }).t.toISOString()).toBe('2024-05-01T10:30:00.000Z');
  expect(() => dec('{"t": {"__type__": "datetime", "__value__": "yesterday"}}')).toThrow(/invalid datetime/);
});

it('nulls beside tags decode as null; an unknown tag names itself', () => {
  expect(dec('{"a": null, "b": [null], "d": {"__type__": "date", "__value__": "2020-01-02"}}')).toEqual({ a: null, b: [null], d: '2020-01-02' });
  expect(dec('{"s": "ab", "l": [1, 2], "d": {"__type__": "date", "__value__": "2020-01-02"}}')).toEqual({ s: 'ab', l: [1, 2], d: '2020-01-02' });
  expect(() => dec('{"__type__": "pickle", "__value__": "x"}')).toThrow(/^unsupported JSON type tag "pickle"$/);
});

it('bad bodies are DecodeErrors that say why and keep the cause', () => {
  const invalid = (() => {
    try {
      dec('{"a":');
    } catch (error) {
      return error as DecodeError;
    }
  })();
  expect(invalid).toBeInstanceOf(DecodeError);
  expect(invalid?.message).toMatch(/^invalid JSON body: /);
  expect(invalid?.cause).toBeInstanceOf(SyntaxError);
  const notUtf8 = (() => {
    try {
      json.decode(new Uint8Array([0x22, 0xff, 0x22]));
    } catch (error) {
      return error as DecodeError;
    }
  })();
  expect(notUtf8?.message).toBe('JSON body is not valid utf-8');
  expect(notUtf8?.cause).toBeInstanceOf(TypeError);
});
