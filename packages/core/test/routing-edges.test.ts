/** Routing edges the mutation run found unasserted (docs/mutants.md). */
import { expect, it } from 'vitest';
import { headersMatch, topicMatches } from '@nori/core/spi';

it('topic: a literal word that differs fails the match, even with the same number of words', () => {
  expect(topicMatches('a.b', 'a.c')).toBe(false);
  expect(topicMatches('a.*.c', 'a.b.d')).toBe(false);
  expect(topicMatches('x.y', 'a.b')).toBe(false);
  expect(topicMatches('a.#.c', 'a.b.d')).toBe(false);
});

it('headers: x- arguments take part only in the -with-x modes', () => {
  const headers = { kind: 'a', 'x-tenant': 't1' };
  expect(headersMatch({ 'x-match': 'all', kind: 'a', 'x-tenant': 'other' }, headers)).toBe(true);
  expect(headersMatch({ 'x-match': 'all-with-x', kind: 'a', 'x-tenant': 'other' }, headers)).toBe(false);
  expect(headersMatch({ 'x-match': 'all-with-x', kind: 'a', 'x-tenant': 't1' }, headers)).toBe(true);
  expect(headersMatch({ kind: 'b', 'x-tenant': 't1' }, headers)).toBe(false);
  expect(headersMatch({ 'x-match': 'any-with-x', kind: 'b', 'x-tenant': 't1' }, headers)).toBe(true);
  expect(headersMatch({ 'x-match': 'any-with-x', kind: 'b', 'x-tenant': 't2' }, headers)).toBe(false);
  expect(headersMatch({ 'x-match': 'any', kind: 'b', 'x-tenant': 't1' }, headers)).toBe(false);
});

it('headers: values compare by value, objects included, and a missing key never matches', () => {
  expect(headersMatch({ list: [1, 2] }, { list: [1, 2] })).toBe(true);
  expect(headersMatch({ list: [1, 2] }, { list: [2, 1] })).toBe(false);
  expect(headersMatch({ n: 1 }, { n: '1' })).toBe(false);
  expect(headersMatch({ n: null }, { n: {} })).toBe(false);
  expect(headersMatch({ n: {} }, { n: null })).toBe(false);
  expect(headersMatch({ absent: null }, {})).toBe(false);
});
