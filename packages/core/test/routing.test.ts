import { describe, expect, it } from 'vitest';
import { headersMatch, route, topicMatches } from '@nori/core/spi';

describe('topic matching follows AMQP exactly', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a.#', 'a', true],
    ['a.#', 'a.b.c', true],
    ['a.#', 'ab', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.x.c', false],
    ['a.*.c', 'a.c', false],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['*', '', true],
    ['#', '', true],
    ['#', 'a.b.c', true],
    ['#.#', 'a', true],
    ['a.#.b', 'a.b', true],
    ['a.#.b', 'a.x.y.b', true],
    ['a.#.b', 'a.x.y.c', false],
    ['#.b', 'b', true],
    ['#.b', 'a.b.b', true],
    ['#.b.#', 'x.b', true],
    ['t.*', 't', false],
    ['t.*', 't.1', true],
    ['t', 't.1', false],
    ['a..b', 'a..b', true],
    ['a.*.b', 'a..b', true],
    ['video.#', 'video.hd.mkv', true],
    ['*.*', 'a.b', true],
    ['*.*', 'a.b.c', false],
  ];
  for (const [pattern, key, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(key)}`, () => {
      expect(topicMatches(pattern, key)).toBe(expected);
    });
  }
});

describe('headers matching', () => {
  it('x-match all (the default) needs every binding header', () => {
    expect(headersMatch({ a: 1, b: 'x' }, { a: 1, b: 'x', c: true })).toBe(true);
    expect(headersMatch({ 'x-match': 'all', a: 1, b: 'x' }, { a: 1 })).toBe(false);
    expect(headersMatch({ a: 1 }, { a: '1' })).toBe(false);
  });
  it('x-match any needs one', () => {
    expect(headersMatch({ 'x-match': 'any', a: 1, b: 2 }, { b: 2 })).toBe(true);
    expect(headersMatch({ 'x-match': 'any', a: 1, b: 2 }, { b: 3 })).toBe(false);
  });
  it('x- keys are ignored unless the -with-x variants are used', () => {
    expect(headersMatch({ 'x-match': 'all', 'x-tenant': 't' }, {})).toBe(true);
    expect(headersMatch({ 'x-match': 'all-with-x', 'x-tenant': 't' }, {})).toBe(false);
    expect(headersMatch({ 'x-match': 'any-with-x', 'x-tenant': 't' }, { 'x-tenant': 't' })).toBe(true);
  });
  it('compares structured values by content', () => {
    expect(headersMatch({ tags: ['a', 'b'] }, { tags: ['a', 'b'] })).toBe(true);
    expect(headersMatch({ tags: ['a', 'b'] }, { tags: ['b', 'a'] })).toBe(false);
  });
});

describe('route', () => {
  const bindings = [
    { queue: 'q1', routingKey: 't.*', arguments: {} },
    { queue: 'q2', routingKey: 't.*', arguments: {} },
    { queue: 'q3', routingKey: 't', arguments: {} },
    { queue: 'q1', routingKey: '#', arguments: {} },
  ];
  it('topic: each matching queue once, in binding order', () => {
    expect(route('topic', bindings, 't.1', {})).toEqual(['q1', 'q2']);
    expect(route('topic', bindings, 't', {})).toEqual(['q3', 'q1']);
  });
  it('direct: exact key; fanout: everyone; unroutable: nobody', () => {
    expect(route('direct', bindings, 't', {})).toEqual(['q3']);
    expect(route('direct', bindings, 'nope', {})).toEqual([]);
    expect(route('fanout', bindings, 'anything', {})).toEqual(['q1', 'q2', 'q3']);
  });
  it('headers', () => {
    const hb = [
      { queue: 'pdf', routingKey: '', arguments: { 'x-match': 'all', format: 'pdf', type: 'report' } },
      { queue: 'any', routingKey: '', arguments: { 'x-match': 'any', format: 'pdf', type: 'log' } },
    ];
    expect(route('headers', hb, '', { format: 'pdf', type: 'report' })).toEqual(['pdf', 'any']);
    expect(route('headers', hb, '', { type: 'log' })).toEqual(['any']);
    expect(route('headers', hb, '', { type: 'zip' })).toEqual([]);
  });
});
