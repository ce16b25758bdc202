/**
 * `rediss://` against a real TLS-only redis-server the test starts: the conformance suite with the
 * server's certificate trusted through `transportOptions.tls`, and a refused handshake (the
 * certificate not trusted) that fails clearly without the password in the error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, ConnectionError } from '@nori/core';
import '@nori/redis';
import { runConformance } from '@nori/testing';
import { startTlsRedis, stopTlsRedis, tlsUrl } from './tls.js';

const tls: { ca?: string } = {};
beforeAll(async () => {
  tls.ca = await startTlsRedis();
}, 30_000);
afterAll(stopTlsRedis);

runConformance({
  name: 'redis-tls',
  url: tlsUrl,
  deadUrl: 'rediss://127.0.0.1:1/0',
  childImports: ['@nori/redis'],
  // Read when each connection is made, after beforeAll filled in the certificate.
  connectionOptions: { transportOptions: { leaseMs: 1500, tls } },
});

describe('rediss:// refuses an untrusted server', () => {
  it('an unverified certificate is a ConnectionError that names the masked URL, not the password', async () => {
    const conn = new Connection(tlsUrl, { connectTimeout: 2000, transportOptions: { tls: {} } });
    const error = await conn.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await conn.close();
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error?.message).toMatch(/rediss:\/\/:\*+@127\.0\.0\.1/);
    expect(error?.message).not.toContain('tls-secret');
  });
});
