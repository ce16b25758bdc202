import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  Connection,
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  Exchange,
  Queue,
  SerializerNotInstalledError,
  TransportNotInstalledError,
  UnknownSchemeError,
  UrlError,
  type Message,
} from '@nori/core';

const run = promisify(execFile);
const name = (what: string): string => `bad-${what}-${randomUUID().slice(0, 8)}`;

describe('bad connection input fails clearly, before any I/O', () => {
  it('a malformed URL names the problem and never the password', () => {
    expect(() => new Connection('redis://user:s3cret@host:99999/0')).toThrow(UrlError);
    try {
      new Connection('redis://user:s3cret@host:99999/0');
    } catch (error) {
      expect((error as Error).message).toContain('port "99999"');
      expect((error as Error).message).not.toContain('s3cret');
    }
    expect(() => new Connection('not a url')).toThrow(/malformed broker URL/);
    expect(() => new Connection('')).toThrow(UrlError);
  });

  it('an unknown scheme lists the known ones', () => {
    expect(() => new Connection('kafka://localhost')).toThrow(UnknownSchemeError);
    expect(() => new Connection('kafka://localhost')).toThrow(/known schemes: .*amqp:\/\/.*memory:\/\/.*redis:\/\//);
  });

  it('a transport package that is not installed names the npm install command', async () => {
    // A real child process with Node's own resolution (no test aliases): the package is absent.
    const script = `
      import { Connection } from '@nori/core';
import { registerTransportPackage } from '@nori/core/spi';
      registerTransportPackage('nope', '@nori/nope');
      try { await new Connection('nope://localhost').connect(); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
    const { stdout } = await run(process.execPath, ['--conditions=nori-src', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../../..', import.meta.url).pathname,
    });
    const error = JSON.parse(stdout.trim()) as { name: string; code: string; message: string };
    expect(error.name).toBe(TransportNotInstalledError.name);
    expect(error.code).toBe('ERR_NORI_TRANSPORT_NOT_INSTALLED');
    expect(error.message).toContain('npm install @nori/nope');
  });
});

describe('bodies that cannot be serialized fail at publish with a clear error', () => {
  it('circular objects, functions and unknown serializers', async () => {
    const conn = new Connection('memory://');
    const producer = conn.producer();
    const q = name('enc');
    const circular: Record<string, unknown> = { a: 1 };
    circular['self'] = circular;
    await expect(producer.publish(circular, { routingKey: q })).rejects.toThrow(EncodeError);
    await expect(producer.publish({ f: () => 1 }, { routingKey: q })).rejects.toThrow(EncodeError);
    await expect(producer.publish({ a: 1 }, { routingKey: q, serializer: 'pickle' })).rejects.toThrow(SerializerNotInstalledError);
    expect(await conn.queueSize(q)).toBe(0);
    await conn.close();
  });
});

describe('a consumer survives messages it cannot or may not decode', () => {
  it('rejects them to the dead-letter queue, emits an error for each, and keeps consuming', async () => {
    const conn = new Connection('memory://');
    const dlx = new Exchange(name('dlx'), { type: 'fanout' });
    const dead = new Queue(name('dead'), { exchange: dlx });
    const work = new Queue(name('work'), { deadLetterExchange: dlx.name });
    await conn.declare(dead);
    await conn.declare(work);
    const producer = conn.producer();
    const bytes = new TextEncoder().encode('{not json');
    await producer.publish({ n: 1 }, { routingKey: work.name });
    await producer.publish(bytes, { routingKey: work.name, contentType: 'application/json', contentEncoding: 'utf-8' });
    await producer.publish('plain words', { routingKey: work.name, contentType: 'text/plain' });
    await producer.publish({ n: 2 }, { routingKey: work.name });

    const handled: unknown[] = [];
    const errors: Error[] = [];
    let finished!: () => void;
    const allHandled = new Promise<void>((r) => (finished = r));
    const consumer = conn.consumer([work], { accept: ['json'] }, async (m: Message) => {
      handled.push(m.body);
      await m.ack();
      if (handled.length === 2) finished();
    });
    consumer.on('error', (e) => errors.push(e));
    await consumer.start();
    await allHandled;
    await consumer.stop();

    expect(handled).toEqual([{ n: 1 }, { n: 2 }]);
    expect(errors.map((e) => e.constructor)).toEqual([DecodeError, ContentDisallowedError]);
    expect(errors[1]?.message).toContain('text/plain');
    const deadQ = conn.simpleQueue(dead, { accept: ['json', 'text/plain'] });
    const first = await deadQ.get({ timeout: 1000 });
    const second = await deadQ.get({ timeout: 1000 });
    expect(new TextDecoder().decode(first.rawBody)).toBe('{not json');
    expect(second.body).toBe('plain words');
    expect((first.headers['x-death'] as Array<{ reason: string }>)[0]?.reason).toBe('rejected');
    await first.ack();
    await second.ack();
    expect(await conn.queueSize(work)).toBe(0);
    await conn.close();
  });

  it('a handler that throws does not lose the message: it is requeued once, rejected (with an error each time) only when it fails again', async () => {
    const conn = new Connection('memory://');
    const q = new Queue(name('throws'));
    const producer = conn.producer();
    for (const n of [1, 2, 3]) await producer.publish({ n }, { routingKey: q.name, declare: [q] });
    const seen: Array<[number, boolean]> = [];
    const errors: string[] = [];
    let finished!: () => void;
    const allSeen = new Promise<void>((r) => (finished = r));
    const consumer = conn.consumer([q], async (m: Message) => {
      const { n } = m.body as { n: number };
      seen.push([n, m.redelivered]);
      if (seen.length === 4) finished();
      if (n === 2) throw new Error('boom on 2');
    });
    consumer.on('error', (e) => errors.push(e.message));
    await consumer.start();
    await allSeen;
    await consumer.stop();
    expect(seen).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [2, true],
    ]);
    expect(errors).toEqual(['boom on 2', 'boom on 2']);
    expect(await conn.queueSize(q)).toBe(0);
    await conn.close();
  });
});
