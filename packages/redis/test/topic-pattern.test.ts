import { describe, expect, it } from 'vitest';
import { topicMatches } from '@nori/core/spi';
import { topicPattern } from '@nori/redis';

// The regex Python publishers route by must agree with nori's own matcher on every case.
const cases: Array<[string, string]> = [
  ['a.#', 'a'],
  ['a.#', 'a.b.c'],
  ['a.#', 'ab'],
  ['a.*.c', 'a.b.c'],
  ['a.*.c', 'a.b.x.c'],
  ['*', 'a'],
  ['*', 'a.b'],
  ['#', ''],
  ['#', 'a.b'],
  ['#.#', 'a'],
  ['a.#.b', 'a.b'],
  ['a.#.b', 'a.x.y.b'],
  ['a.#.b', 'a.x.y.c'],
  ['#.b', 'b'],
  ['#.b', 'x.b'],
  ['t.*', 't'],
  ['t.*', 't.1'],
  ['a.#.#.b', 'a.b'],
  ['a.#.#.b', 'a.x.y.b'],
  ['v-1.*', 'v-1.x'],
  ['v-1.*', 'v1.x'],
];

describe('topic binding regex', () => {
  for (const [pattern, key] of cases) {
    it(`${pattern} vs ${key}`, () => {
      expect(new RegExp(topicPattern(pattern)).test(key)).toBe(topicMatches(pattern, key));
    });
  }
});
