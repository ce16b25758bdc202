import { describe, expect, it } from 'vitest';
import { maskUrl, parseUrl, parseUrls, UrlError } from '@nori/core';

describe('broker URLs, read as kombu reads them', () => {
  it('splits user, percent-decoded password, host, port, vhost and query', () => {
    const u = parseUrl('amqp://us%40er:p%40ss%3Aw0rd@rabbit.local:5673/prod%2Fa?heartbeat=10&ssl=1');
    expect(u).toMatchObject({
      scheme: 'amqp',
      username: 'us@er',
      password: 'p@ss:w0rd',
      hostname: 'rabbit.local',
      port: 5673,
      virtualHost: 'prod/a',
      query: { heartbeat: '10', ssl: '1' },
    });
    expect(u.masked).toBe('amqp://us%40er:**@rabbit.local:5673/prod%2Fa?heartbeat=10&ssl=1');
  });

  it('takes the virtual host from the path: "//" is "/", no path leaves it unset', () => {
    expect(parseUrl('amqp://h//').virtualHost).toBe('/');
    expect(parseUrl('amqp://h/').virtualHost).toBeUndefined();
    expect(parseUrl('amqp://h').virtualHost).toBeUndefined();
    expect(parseUrl('redis://h:6379/3').virtualHost).toBe('3');
  });

  it('handles IPv6 hosts, missing credentials and socket paths', () => {
    expect(parseUrl('redis://[::1]:6380/0')).toMatchObject({ hostname: '::1', port: 6380 });
    expect(parseUrl('memory://')).toMatchObject({ scheme: 'memory', hostname: undefined, username: undefined, password: undefined });
    expect(parseUrl('redis+socket:///var/run/redis.sock')).toMatchObject({ scheme: 'redis+socket', hostname: undefined, path: '/var/run/redis.sock' });
    expect(parseUrl('redis://:onlypass@h')).toMatchObject({ username: undefined, password: 'onlypass' });
  });

  it('parses failover lists given as "a;b" or arrays', () => {
    expect(parseUrls('amqp://a;amqp://b').map((u) => u.hostname)).toEqual(['a', 'b']);
    expect(parseUrls(['amqp://a', 'amqp://b;amqp://c']).map((u) => u.hostname)).toEqual(['a', 'b', 'c']);
    expect(() => parseUrls([])).toThrow(UrlError);
  });

  it('rejects malformed URLs without ever showing the password', () => {
    for (const bad of ['', 'localhost:6379', 'redis://u:secret@h:notaport', 'redis://u:secret@h:0', 'amqp://u:sec%ZZret@h']) {
      let error: unknown;
      try {
        parseUrl(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(UrlError);
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('maskUrl hides the password only', () => {
    expect(maskUrl('redis://:pw@h:1/0')).toBe('redis://:**@h:1/0');
    expect(maskUrl('redis://h:1/0')).toBe('redis://h:1/0');
  });
});
