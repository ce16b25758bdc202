/**
 * Signed messages with Python Celery 5.2's `auth` serializer (celery.security with Debian's
 * python3-cryptography) as the peer, certificates made by openssl: Python signs → nori verifies,
 * nori signs → Python verifies, tampered bodies and unknown signers refused on both sides; then
 * over Redis, a task Celery sends with task_serializer='auth' runs on a nori worker, and a task
 * nori sends is verified by a kombu consumer with accept=['auth'].
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, DecodeError, SignatureError, unregisterSerializer, type Serializer } from '@nori/core';
import '@nori/redis';
import { App } from '@nori/tasks';
import { authSerializer, CertStore, registerAuth } from '@nori/security';
import { TestNames } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('./python/celery_auth.py', import.meta.url));
const REDIS = redisUrl();

const dir = mkdtempSync(join(tmpdir(), 'nori-auth-'));
const store = join(dir, 'store');
const file = (name: string): string => join(dir, name);

/** A self-signed RSA certificate; the issuer has a comma to check the signer id matches Celery's. */
async function identity(name: string, bits: number, subject: string): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    `rsa:${bits}`,
    '-nodes',
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.crt`),
    '-days',
    '2',
    '-subj',
    subject,
  ]);
}

async function python(args: string[]): Promise<unknown> {
  const { stdout } = await run(PYTHON, [script, ...args], { timeout: 30_000 });
  const last = stdout.trim().split('\n').at(-1) as string;
  return args[0] === 'send' ? last : JSON.parse(last);
}

function json(name: string, value: unknown): string {
  writeFileSync(file(name), JSON.stringify(value));
  return file(name);
}

/** Flip one character of the signed body (the end of the payload), keeping the envelope well formed. */
function tamper(payload: string): string {
  const raw = Buffer.from(payload, 'base64');
  raw[raw.length - 3] = raw[raw.length - 3] === 0x31 ? 0x32 : 0x31;
  return raw.toString('base64');
}

const VALUES = [{ task: 'x', args: [1, 'héllo', null], nested: { a: [true, 1.5] } }, [[2, 3], {}, { callbacks: null }], 'plain'];

let nori: Serializer;
const pyKeys = (): string[] => [file('py.key'), file('py.crt'), store];

beforeAll(async () => {
  await Promise.all([
    identity('py', 2048, '/C=NL/O=Acme, Inc./CN=celery peer'),
    identity('nori', 3072, '/CN=nori node/O=nori'),
    identity('stranger', 2048, '/CN=stranger'),
  ]);
  mkdirSync(store);
  for (const name of ['py', 'nori']) writeFileSync(join(store, `${name}.crt`), readFileSync(file(`${name}.crt`)));
  nori = registerAuth({ key: readFileSync(file('nori.key')), certificate: readFileSync(file('nori.crt')), certStore: CertStore.fromPath(store) });
});

afterAll(() => {
  unregisterSerializer('auth');
  rmSync(dir, { recursive: true, force: true });
});

describe('Celery auth serializer vectors', () => {
  it('Python signs → nori verifies', async () => {
    const signed = (await python(['sign', ...pyKeys(), json('values.json', VALUES)])) as string[];
    expect(signed.map((s) => nori.decode(Buffer.from(s)))).toEqual(VALUES);
  });

  it('nori signs → Python verifies', async () => {
    const signed = VALUES.map((v) => Buffer.from(nori.encode(v)).toString());
    expect(await python(['verify', ...pyKeys(), json('nori-signed.json', signed)])).toEqual(VALUES.map((ok) => ({ ok })));
  });

  it('a tampered body is refused on both sides', async () => {
    const fromPython = (await python(['sign', ...pyKeys(), json('one.json', [{ n: 1 }])])) as string[];
    expect(nori.decode(Buffer.from(fromPython[0] as string))).toEqual({ n: 1 });
    expect(() => nori.decode(Buffer.from(tamper(fromPython[0] as string)))).toThrow(SignatureError);

    const fromNori = [Buffer.from(nori.encode({ n: 1 })).toString()];
    const verdicts = (await python(['verify', ...pyKeys(), json('tampered.json', [...fromNori, tamper(fromNori[0] as string)])])) as object[];
    expect(verdicts[0]).toEqual({ ok: { n: 1 } });
    // Celery 5.2 reports a bad signature as "Unable to deserialize: TypeError(...)" (its reraise_errors
    // names a module where an exception class belongs), still as SecurityError: refused all the same.
    expect(verdicts[1]).toEqual({ error: expect.stringMatching(/^SecurityError: Unable to deserialize/) as string });
  });

  it('a signer outside the store is refused on both sides; a payload without a signature is undecodable', async () => {
    const stranger = authSerializer({
      key: readFileSync(file('stranger.key')),
      certificate: readFileSync(file('stranger.crt')),
      certStore: CertStore.fromPath(store),
    });
    const signed = Buffer.from(stranger.encode({ n: 1 })).toString();
    expect(() => nori.decode(Buffer.from(signed))).toThrow(/unknown signer: no certificate "stranger \d+"/);
    const verdicts = (await python(['verify', ...pyKeys(), json('stranger.json', [signed])])) as object[];
    expect(verdicts[0]).toEqual({ error: expect.stringMatching(/^SecurityError: .*Unknown certificate: b'stranger \d+'/) as string });
    expect(() => nori.decode(Buffer.from(Buffer.from('{"n": 1}').toString('base64')))).toThrow(DecodeError);
  });

  it('names the signer as Celery does: issuer values, then the decimal serial', () => {
    const ids = CertStore.fromPath(store)
      .certificates()
      .map((c) => c.id);
    expect(ids.find((id) => id.startsWith('NL '))).toMatch(/^NL Acme, Inc\. celery peer \d+$/);
  });
});

describe('signed tasks over Redis', () => {
  // Queues, and the exchanges of their names Celery binds them to.
  const names = new TestNames('auth');
  const toNori = names.name('nori');
  const toPython = names.name('py');
  const conn = new Connection(REDIS);

  afterAll(async () => {
    await names.deleteAll(conn);
    await conn.close();
  });

  it('a task Celery signs runs on a nori worker that accepts only auth; tampered and unsigned ones are refused', async () => {
    // No remote control: its mailbox (celery.pidbox) is shared by every app on the broker and would stay.
    const app = new App({ broker: REDIS, serializer: 'auth', accept: ['auth'], defaultQueue: toNori, enableRemoteControl: false });
    const ran: unknown[][] = [];
    app.task('auth.echo', (...args: unknown[]) => void ran.push(args));
    const refused: Error[] = [];
    const worker = app.worker({ concurrency: 1 });
    worker.on('error', (e) => refused.push(e));
    await worker.start();
    try {
      // Refused first, so the good task arriving after them shows the worker kept going.
      const signed = (await python(['sign', ...pyKeys(), json('task.json', [[[7], {}, {}]])])) as string[];
      const producer = conn.producer();
      await producer.publish(Buffer.from(tamper(signed[0] as string)), {
        serializer: 'raw',
        routingKey: toNori,
        headers: { task: 'auth.echo', id: randomUUID() },
      });
      await producer.publish([[8], {}, {}], { serializer: 'json', routingKey: toNori, headers: { task: 'auth.echo', id: randomUUID() } });
      const taskId = String(await python(['send', REDIS, toNori, ...pyKeys(), JSON.stringify(['from celery', 42])]));
      expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
      await expect.poll(() => ran, { timeout: 20_000 }).toEqual([['from celery', 42]]);
      await expect.poll(() => refused.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
      expect(refused.map((e) => e.name).sort()).toEqual(expect.arrayContaining(['ContentDisallowedError', 'SignatureError']));
      expect(await conn.simpleQueue(toNori).qsize()).toBe(0);
    } finally {
      await worker.stop();
      await app.close();
    }
  });

  it('a task nori signs is verified by a kombu consumer with accept=["auth"]', async () => {
    const app = new App({ broker: REDIS, serializer: 'auth', accept: ['auth'] });
    try {
      await app.sendTask('auth.echo', ['from nori', 1], { k: 'v' }, { queue: toPython });
    } finally {
      await app.close();
    }
    const got = (await python(['consume', REDIS, toPython, ...pyKeys(), '1'])) as { ok: unknown[]; task: string }[];
    expect(got).toHaveLength(1);
    expect(got[0]?.task).toBe('auth.echo');
    expect(got[0]?.ok.slice(0, 2)).toEqual([['from nori', 1], { k: 'v' }]);
  });
});
