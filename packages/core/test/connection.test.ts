import { describe, expect, it } from 'vitest';
import { Connection, ConnectionClosedError, ConnectionError, type BrokerUrl } from '@nori/core';
import { MemoryStore, registerTransport, virtualTransport } from '@nori/core/spi';

/** memory:// behind a URL whose host says whether it answers: 'down' never does, 'flaky-N' fails N times. */
const attempts = new Map<string, number>();
class GatedStore extends MemoryStore {
  constructor(private readonly url: BrokerUrl) {
    super();
  }
  override async connect(): Promise<void> {
    const host = this.url.hostname ?? '';
    const n = (attempts.get(host) ?? 0) + 1;
    attempts.set(host, n);
    const failures = host === 'down' ? Infinity : Number(/^flaky-(\d+)$/.exec(host)?.[1] ?? 0);
    if (n <= failures) throw new Error(`connection refused by ${host}`);
  }
}
registerTransport(
  ['gated'],
  virtualTransport((url) => new GatedStore(url)),
);

describe('Connection', () => {
  it('is lazy: nothing connects until first use', async () => {
    const conn = new Connection('gated://lazy-host/');
    expect(conn.connected).toBe(false);
    expect(attempts.get('lazy-host')).toBeUndefined();
    expect(() => conn.capabilities).toThrow(ConnectionError);
    await conn.producer().publish({ a: 1 }, { routingKey: 'lazy-q' });
    expect(conn.connected).toBe(true);
    expect(attempts.get('lazy-host')).toBe(1);
    expect(conn.capabilities.exchangeTypes).toEqual(['direct', 'topic', 'fanout', 'headers']);
    await conn.close();
    expect(conn.connected).toBe(false);
    await expect(conn.connect()).rejects.toThrow(ConnectionClosedError); // a closed connection does not connect again
    await expect(conn.producer().publish({ a: 2 }, { routingKey: 'lazy-q' })).rejects.toThrow(ConnectionClosedError);
    expect(attempts.get('lazy-host')).toBe(1);
  });

  it('close() ends a pending ensureConnection, connect and publish retry at once, with ConnectionClosedError', async () => {
    const conn = new Connection('gated://down/');
    const started = Date.now();
    const ensure = conn.ensureConnection({ maxRetries: 100, intervalStart: 5000 }).catch((e: unknown) => e);
    const publish = conn
      .producer()
      .publish({ a: 1 }, { routingKey: 'q', retry: true, retryPolicy: { maxRetries: 100, intervalStart: 5000 } })
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100)); // each failed its first attempt and sleeps
    await conn.close();
    const errors = await Promise.all([ensure, publish]);
    expect(errors.map((e) => (e as Error).constructor)).toEqual([ConnectionClosedError, ConnectionClosedError]);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(conn.ensureConnection({ maxRetries: 1 })).rejects.toThrow(ConnectionClosedError);
  });

  it('fails over to the next URL of a failover list and says which ones failed', async () => {
    const conn = new Connection('gated://down/;gated://up-1/');
    const connected: string[] = [];
    conn.on('connected', (url) => connected.push(url));
    await conn.connect();
    expect(connected).toEqual(['gated://up-1/']);
    await conn.close();

    const dead = new Connection(['gated://down/', 'gated://down/']);
    await expect(dead.connect()).rejects.toThrow(ConnectionError);
    await expect(dead.connect()).rejects.toThrow(/cannot connect to gated:\/\/down\/ or gated:\/\/down\/: .*refused/);
  });

  it('ensureConnection retries with backoff and emits reconnecting', async () => {
    const conn = new Connection('gated://flaky-2/');
    const retries: number[] = [];
    conn.on('reconnecting', (attempt) => retries.push(attempt));
    await conn.ensureConnection({ maxRetries: 5, intervalStart: 10, intervalStep: 10, intervalMax: 20 });
    expect(retries).toEqual([1, 2]);
    expect(attempts.get('flaky-2')).toBe(3);
    await conn.close();

    const never = new Connection('gated://down/');
    await expect(never.ensureConnection({ maxRetries: 2, intervalStart: 1, intervalStep: 1 })).rejects.toThrow(ConnectionError);
  });

  it('info() masks the password and lists the alternates', () => {
    const conn = new Connection('amqp://guest:s3cret@rabbit:5672/prod;amqp://guest:s3cret@rabbit2//');
    const info = conn.info();
    expect(info).toMatchObject({ transport: 'amqp', hostname: 'rabbit', port: 5672, userid: 'guest', virtualHost: 'prod' });
    expect(info.url).toBe('amqp://guest:**@rabbit:5672/prod');
    expect(info.alternates).toEqual(['amqp://guest:**@rabbit:5672/prod', 'amqp://guest:**@rabbit2//']);
    expect(JSON.stringify(info)).not.toContain('s3cret');
  });
});
