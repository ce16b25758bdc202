/**
 * `nori flower` safe by default: the API refuses unauthenticated calls unless the operator opts out,
 * the page still works locally (its session cookie reaches the API), cross-origin and simple-request
 * state changes are refused, a foreign `Host` (DNS rebinding) is refused, a port in use ends the
 * command at once, and no password of the result backend is shown by `inspect conf` or the API.
 * No worker consumes the flower's queue, so "nothing sent" is its length staying 0.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { deleteCeleryNames } from '../../tasks/test/celery-names.js';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, run, start, stopAll } from './bin.js';

const queue = `cli-flowersec-${randomUUID().slice(0, 8)}`;
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const conn = new Connection(REDIS);
const EVIL = 'http://evil.example';

async function flower(extra: string[] = [], extraEnv: Record<string, string> = {}): Promise<string> {
  const f = start(['-A', APP, 'flower', '--port', '0', ...extra], { ...env, ...extraEnv });
  return (await f.waitFor(/nori flower on (http:\/\/\S+)/))[1]!;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** node:http rather than fetch, so the test sets Host, Origin and Sec-Fetch-* as a browser (or an attacker) would. */
function http(base: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const queued = (): Promise<number> => conn.queueSize(queue);
const json = { 'Content-Type': 'application/json' };
const send = (base: string, headers: Record<string, string>, body = '{"args": [1, 2]}'): Promise<Reply> =>
  http(base, '/api/task/async-apply/cli.add', { method: 'POST', headers, body });

afterEach(async () => {
  await stopAll();
  await conn.purge(queue).catch(() => undefined);
});

afterAll(async () => {
  await conn.deleteQueue(queue).catch(() => undefined);
  await conn.deleteExchange(queue).catch(() => undefined);
  await deleteCeleryNames(conn);
  await conn.close();
});

describe('nori flower: safe by default', () => {
  it('refuses unauthenticated API calls; the page works locally and its session reaches the API', async () => {
    const base = await flower();
    const refused = await http(base, '/api/workers');
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('NORI_FLOWER_UNAUTHENTICATED_API');
    expect((await send(base, { 'Content-Type': 'text/plain' })).status).toBe(401);
    expect((await send(base, json)).status).toBe(401);
    expect(await queued()).toBe(0);

    const page = await http(base, '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>nori flower</title>');
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly/i);
    expect(String(page.headers['set-cookie'])).toMatch(/SameSite=Strict/i);
    expect((await http(base, '/api/tasks', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(200);
    expect((await http(base, '/api/tasks', { headers: { Cookie: 'nori_flower_session=forged' } })).status).toBe(401);

    // The page's own session: a change from a foreign origin is refused, one from the page goes through.
    expect((await send(base, { ...json, Cookie: cookie, Origin: EVIL, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect(await queued()).toBe(0);
    const ok = await send(base, { ...json, Cookie: cookie, Origin: base, 'Sec-Fetch-Site': 'same-origin' });
    expect(ok.status).toBe(200);
    expect(await queued()).toBe(1);
  });

  it('opted out (NORI_FLOWER_UNAUTHENTICATED_API): cross-origin and simple-request changes are still refused', async () => {
    const base = await flower([], { NORI_FLOWER_UNAUTHENTICATED_API: 'true' });
    expect((await http(base, '/api/tasks')).status).toBe(200);
    // The attack of the issue: a text/plain simple request (no preflight) from another site.
    expect((await send(base, { 'Content-Type': 'text/plain', Origin: EVIL })).status).toBe(403);
    expect((await send(base, { 'Content-Type': 'text/plain;charset=UTF-8', Origin: EVIL, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await send(base, { ...json, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await send(base, { ...json, 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
    expect((await send(base, { ...json, Origin: 'null' })).status).toBe(403);
    // A body that is not declared JSON is refused even without browser headers.
    expect((await send(base, { 'Content-Type': 'text/plain' })).status).toBe(415);
    const revoke = await http(base, `/api/task/revoke/${randomUUID()}?terminate=true`, { method: 'POST', headers: { Origin: EVIL } });
    expect(revoke.status).toBe(403);
    const form = await http(base, '/api/task/rate-limit/cli.add', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: EVIL },
      body: 'ratelimit=1',
    });
    expect(form.status).toBe(403);
    // A cross-site page may not read the API either (no CORS, and fetch metadata says where it came from).
    expect((await http(base, '/api/tasks', { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors' } })).status).toBe(403);
    expect(await queued()).toBe(0);

    expect((await send(base, json)).status).toBe(200);
    expect((await send(base, { ...json, Origin: base, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect(await queued()).toBe(2);
  });

  it('refuses a foreign Host (DNS rebinding) and serves a configured one', async () => {
    const base = await flower([], { NORI_FLOWER_UNAUTHENTICATED_API: '1' });
    const port = new URL(base).port;
    for (const path of ['/', '/api/tasks', '/metrics', '/dashboard/events']) {
      const r = await http(base, path, { headers: { Host: `rebind.evil.example:${port}` } });
      expect(r.status, path).toBe(403);
      expect(r.text, path).toContain('Host');
    }
    expect((await send(base, { ...json, Host: `rebind.evil.example:${port}` })).status).toBe(403);
    expect((await http(base, '/api/tasks', { headers: { Host: `localhost:${port}` } })).status).toBe(200);
    expect((await http(base, '/api/tasks', { headers: { Host: `127.0.0.1:${port}` } })).status).toBe(200);
    expect((await http(base, '/healthcheck', { headers: { Host: 'anything.example' } })).text).toBe('OK');

    const named = await flower(['--allowed-hosts', 'flower.example.com'], { NORI_FLOWER_UNAUTHENTICATED_API: '1' });
    expect((await http(named, '/api/tasks', { headers: { Host: 'flower.example.com' } })).status).toBe(200);
    expect((await http(named, '/api/tasks', { headers: { Host: 'other.example.com' } })).status).toBe(403);
  });

  it('basic auth: credentials a browser has cached do not carry a cross-origin change', async () => {
    const base = await flower(['--basic-auth', 'admin:s3cret']);
    const auth = { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
    expect((await http(base, '/api/tasks')).status).toBe(401);
    expect((await http(base, '/api/tasks', { headers: auth })).status).toBe(200);
    expect((await send(base, { ...auth, 'Content-Type': 'text/plain', Origin: EVIL })).status).toBe(403);
    expect((await send(base, { ...auth, ...json, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect(await queued()).toBe(0);
    expect((await send(base, { ...auth, ...json })).status).toBe(200);
    expect(await queued()).toBe(1);
  });

  it('a port in use ends the command at once, non-zero, in one line', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const f = start(['-A', APP, 'flower', '--port', String(port)], env);
      const code = await Promise.race([f.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
      expect(code).toBe(1);
      expect(f.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(f.stderr).not.toMatch(/^\s+at /m);
    } finally {
      holder.close();
    }
  });

  it('inspect conf and /api/workers show the result backend without its password', async () => {
    const backend = new URL(BACKEND);
    backend.password = 's3cret-backend';
    const hostname = `flowersec-${randomUUID().slice(0, 8)}@test`;
    const withSecret = { ...env, NORI_TEST_BACKEND: backend.toString() };
    const worker = start(['-A', APP, 'worker', '-n', hostname, '-l', 'info'], withSecret);
    await worker.waitFor(/ready, consuming/);

    const conf = await run(['-A', APP, 'inspect', 'conf', '-d', hostname, '--json', '--timeout', '3'], withSecret);
    expect(conf.code).toBe(0);
    expect(conf.stdout).not.toContain('s3cret-backend');
    const shown = (JSON.parse(conf.stdout) as Record<string, Record<string, unknown>>)[hostname]!;
    expect(shown['result_backend']).toBe(`redis://:**@${backend.host}${backend.pathname}`);

    const base = await flower([], { ...withSecret, NORI_FLOWER_UNAUTHENTICATED_API: '1' });
    const workers = await http(base, `/api/workers?workername=${encodeURIComponent(hostname)}&refresh=true`);
    expect(workers.status).toBe(200);
    expect(workers.text).not.toContain('s3cret-backend');
    expect(workers.text).toContain(`redis://:**@${backend.host}`);
  });
});
