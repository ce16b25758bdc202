/** Broker URL edges the mutation run found unasserted (docs/mutants.md). */
import { expect, it } from 'vitest';
import { parseUrl, parseUrls, UrlError } from '@nori/core';

it('an empty or blank URL is a UrlError that says so; surrounding blanks are ignored', () => {
  for (const blank of ['', '   ', undefined, null]) expect(() => parseUrl(blank as string)).toThrow(/^broker URL is empty$/);
  expect(parseUrl('  redis://h:6380/1 \n')).toMatchObject({ hostname: 'h', port: 6380, virtualHost: '1', href: 'redis://h:6380/1' });
});

it('ports run from 1 to 65535; an empty port is no port', () => {
  expect(parseUrl('redis://h:1').port).toBe(1);
  expect(parseUrl('redis://h:65535').port).toBe(65535);
  expect(parseUrl('redis://h:').port).toBeUndefined();
  for (const bad of ['0', '65536', '12a', 'x1']) expect(() => parseUrl(`redis://h:${bad}`)).toThrow(/is not a number from 1 to 65535/);
});

it('credentials: user only, empty user, bad percent-encoding named by part', () => {
  expect(parseUrl('amqp://guest@h')).toMatchObject({ username: 'guest', password: undefined });
  expect(parseUrl('amqp://:@h')).toMatchObject({ username: undefined, password: '' });
  expect(() => parseUrl('amqp://us%zzer:p@h')).toThrow(/bad percent-encoding in user/);
  expect(() => parseUrl('amqp://u:p%zz@h')).toThrow(/bad percent-encoding in password/);
  expect(() => parseUrl('amqp://u:p@h/v%zz')).toThrow(/bad percent-encoding in virtual host/);
  expect(() => parseUrl('amqp://u:p@h%zz/v')).toThrow(/bad percent-encoding in host/);
});

it('a URL without path or query has neither', () => {
  expect(parseUrl('redis://h')).toMatchObject({ path: undefined, virtualHost: undefined, query: {} });
  expect(parseUrl('redis://h?')).toMatchObject({ query: {} });
});

it('failover lists: blanks around and between URLs and blank entries are dropped; nothing left is a UrlError', () => {
  expect(parseUrls(' redis://a ; redis://b ').map((u) => u.hostname)).toEqual(['a', 'b']);
  expect(parseUrls(['redis://a;redis://b', ' redis://c', '  ', '']).map((u) => u.hostname)).toEqual(['a', 'b', 'c']);
  expect(() => parseUrls(['', ' '])).toThrow(/^no broker URL given$/);
  expect(() => parseUrls([])).toThrow(UrlError);
});
