import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError, getSerializer } from '@nori/core';
import { yamlSerializer } from '@nori/yaml';

const dec = (text: string): unknown => yamlSerializer.decode(new TextEncoder().encode(text));

describe('yaml (safe schema)', () => {
  it('is registered under kombu’s name and content type', () => {
    expect(getSerializer('yaml')).toBe(yamlSerializer);
    expect(getSerializer('application/x-yaml')).toBe(yamlSerializer);
  });

  it('round-trips, timestamps and binary included', () => {
    const value = { n: 1, s: 'héllo', list: [1, null, true], when: new Date('2024-05-01T10:30:00Z'), raw: new Uint8Array([0, 255]) };
    const back = yamlSerializer.decode(yamlSerializer.encode(value)) as typeof value;
    expect(back.when).toEqual(value.when);
    expect([...back.raw]).toEqual([0, 255]);
    expect(back.list).toEqual([1, null, true]);
  });

  it('refuses tags that construct code or objects', () => {
    expect(() => dec('!!python/object/apply:os.system ["echo pwned"]')).toThrow(DecodeError);
    expect(() => dec('x: !!js/function "function () { return 1 }"')).toThrow(DecodeError);
    expect(() => dec('x: !<tag:yaml.org,2002:python/name:os.system> ""')).toThrow(/unknown .*tag/);
  });

  it('malformed YAML is a DecodeError; functions are an EncodeError', () => {
    expect(() => dec('a: [1, 2')).toThrow(DecodeError);
    expect(() => yamlSerializer.encode({ f: () => 1 })).toThrow(EncodeError);
  });
});
