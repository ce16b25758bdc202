import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UrlError, parseUrl, silentLogger } from '@nori/core';
import { redisSettings } from '@nori/redis';

const settings = (url: string, transportOptions: Record<string, unknown> = {}) =>
  redisSettings(parseUrl(url), { transportOptions, logger: silentLogger, connectTimeout: 1000 });

describe('redis URL and options', () => {
  it('reads host, port, database and credentials, and kombu option names', () => {
    const s = settings('redis://u:p%40ss@example.com:6380/3', { visibility_timeout: 60, global_keyprefix: 'app:' });
    expect([s.client.host, s.client.port, s.db, s.client.username, s.client.password]).toEqual(['example.com', 6380, 3, 'u', 'p@ss']);
    expect([s.visibilityTimeout, s.keyPrefix, s.clusterNodes]).toEqual([60_000, 'app:', undefined]);
  });

  it('redis+cluster:// seeds from the URL plus clusterNodes, and refuses a database other than 0', () => {
    const s = settings('redis+cluster://10.0.0.1:7000', { clusterNodes: ['10.0.0.2:7001', { host: '10.0.0.3', port: 7002 }] });
    expect(s.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '10.0.0.3', port: 7002 },
    ]);
    expect(() => settings('redis+cluster://10.0.0.1:7000/2')).toThrow(UrlError);
    expect(() => settings('redis+cluster://10.0.0.1:7000', { clusterNodes: ['nohost'] })).toThrow(InvalidArgumentError);
  });

  it('a bad database or option names what is wrong, without the password', () => {
    expect(() => settings('redis://:secret@h/abc')).toThrow(/database "abc" is not a number/);
    expect(() => settings('redis://:secret@h/abc')).not.toThrow(/secret/);
    expect(() => settings('redis://h', { visibility_timeout: -1 })).toThrow(InvalidArgumentError);
    // Core's one option reader: an empty or non-numeric value is refused, never read as 0 or NaN.
    expect(() => settings('redis://h', { bucketPollMs: '' })).toThrow(/bucketPollMs/);
    expect(() => settings('redis://h', { visibilityTimeout: 'soon' })).toThrow(/visibilityTimeout/);
    expect(settings('redis://h', { visibilityTimeout: '5000', visibility_timeout: 60 }).visibilityTimeout).toBe(5000);
    expect(() => settings('sentinel://h:26379')).toThrow(/masterName/);
  });
});
