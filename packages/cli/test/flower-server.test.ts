/**
 * The dashboard's server in-process, on the memory broker: who it refuses and how (the API
 * without credentials, basic auth's challenge), what stays open (/healthcheck, /metrics and the
 * page of an open server, whose cookie then reaches the API), read-only mode refusing every change
 * and nothing else, unknown paths. flower.test.ts and flower-security.test.ts check the same
 * through the `nori` CLI in a child process, where a mutation audit cannot see them.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '@nori/tasks';
import { PAGE, PAGE_CSP, staticFiles } from '../src/flower/page.js';
import { startFlower, type FlowerOptions, type FlowerServer } from '../src/flower/server.js';
import { freePort } from './bin.js';
import { until } from './flower-client.js';
import { ask } from './http-ask.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function serve(options: FlowerOptions): Promise<FlowerServer> {
  const app = new App({ broker: 'memory://', backend: 'memory://', defaultQueue: `flower-server-${randomUUID().slice(0, 8)}` });
  closing.push(() => app.close());
  const server = await startFlower(app, { port: 0, ...options });
  closing.push(() => server.close());
  return server;
}

const json = { 'Content-Type': 'application/json' };
const revoke = (base: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}/api/task/revoke/${randomUUID()}`, { method: 'POST', headers: { ...json, ...headers }, body: '{}' });

describe('flower server (in-process)', () => {
  it('an open server: the API refuses callers without the page’s session, /metrics and the page do not', async () => {
    const { url } = await serve({});
    const refused = await fetch(`${url}/api/tasks`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toContain('--unauthenticated-api');
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${url}/api/tasks`, { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await fetch(`${url}/healthcheck`)).status).toBe(200);
    const missing = await fetch(`${url}/api/no-such-route`, { headers: { Cookie: cookie } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not found' });
  });

  it('basic auth: a challenge without credentials, nothing open but the health check', async () => {
    const { url } = await serve({ basicAuth: ['admin:s3cret'] });
    for (const path of ['/api/tasks', '/metrics', '/']) {
      const r = await fetch(`${url}${path}`);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate'), path).toBe('Basic realm="nori flower"');
    }
    const auth = { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
    expect((await fetch(`${url}/api/tasks`, { headers: auth })).status).toBe(200);
    expect(await (await fetch(`${url}/healthcheck`)).text()).toBe('OK');
  });

  it('read-only mode refuses every change and nothing else; without it the same change goes through', async () => {
    const locked = await serve({ readOnly: true, unauthenticatedApi: true });
    const refused = await revoke(locked.url);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'Read only mode is enabled' });
    expect((await fetch(`${locked.url}/api/tasks`)).status).toBe(200);
    const open = await serve({ unauthenticatedApi: true });
    expect((await revoke(open.url)).status).toBe(200);
  });
});

/** The page's session of an open server, as its Cookie header. */
async function pageCookie(base: string): Promise<{ Cookie: string }> {
  const page = await ask(`${base}/`);
  return { Cookie: String(page.headers['set-cookie']).split(';')[0]! };
}

const errorOf = (body: string): string => (JSON.parse(body) as { error: string }).error;

describe('flower server: who may ask (in-process)', () => {
  it('listens on the port given', async () => {
    const port = await freePort();
    expect((await serve({ port })).url).toBe(`http://127.0.0.1:${port}`);
  });

  it('listens on 127.0.0.1 by default; refuses a foreign Host, serves a configured one; the health check answers any Host', async () => {
    const { url } = await serve({ unauthenticatedApi: true, allowedHosts: ['flower.example'] });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const foreign = await ask(`${url}/api/tasks`, { headers: { Host: 'evil.example:5555' } });
    expect(foreign.status).toBe(403);
    expect(errorOf(foreign.body)).toContain('--allowed-hosts evil.example');
    expect((await ask(`${url}/api/tasks`, { headers: { Host: 'flower.example:8080' } })).status).toBe(200);
    const health = await ask(`${url}/healthcheck`, { headers: { Host: 'evil.example' } });
    expect([health.status, health.body, health.headers['content-type']]).toEqual([200, 'OK', 'text/plain; charset=UTF-8']);
    // Only GET is the health check: a POST is an API call like any other.
    expect((await ask(`${url}/healthcheck`, { method: 'POST', headers: { Host: 'evil.example' } })).status).toBe(403);
    expect((await ask(`${url}/healthcheck`, { method: 'POST' })).status).toBe(404);
  });

  it('another site may navigate to the page, not read the API nor change anything; HEAD is no change', async () => {
    const { url } = await serve({ unauthenticatedApi: true });
    const crossSite = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' };
    const read = await ask(`${url}/api/tasks`, { headers: crossSite });
    expect([read.status, errorOf(read.body)]).toEqual([403, 'Cross-site request refused (Sec-Fetch-Site: cross-site)']);
    expect((await ask(`${url}/tasks`, { headers: crossSite })).status).toBe(200);
    // /login is a place to navigate to only with sign-in (where the provider sends the browser back).
    expect((await ask(`${url}/login`, { headers: crossSite })).status).toBe(403);
    const path = `/api/task/revoke/${randomUUID()}`;
    const change = await ask(`${url}${path}`, { method: 'POST', headers: { Origin: 'http://evil.example' } });
    expect([change.status, errorOf(change.body)]).toEqual([403, 'Cross-origin change refused (Origin: http://evil.example)']);
    const own = new URL(url).host;
    expect((await ask(`${url}${path}`, { method: 'POST', headers: { Origin: `http://${own}` } })).status).toBe(200);
    // HEAD reads: another Origin does not make it a refused change (no route answers HEAD).
    expect((await ask(`${url}/api/tasks`, { method: 'HEAD', headers: { Origin: 'http://evil.example' } })).status).toBe(404);
  });

  it('refuses without sign-in or basic auth as each expects: JSON for scripts, a challenge with basic auth', async () => {
    const open = await serve({});
    const refused = await ask(`${open.url}/dashboard/config`);
    expect([refused.status, refused.headers['content-type'], refused.headers['www-authenticate']]).toEqual([401, 'application/json; charset=UTF-8', undefined]);
    expect(errorOf(refused.body)).toMatch(/^The API needs authentication: start nori flower with --basic-auth/);
    const basic = await serve({ basicAuth: ['admin:s3cret'] });
    const challenged = await ask(`${basic.url}/tasks`);
    expect([challenged.status, challenged.body, challenged.headers['content-type']]).toEqual([401, 'Unauthorized', 'text/plain; charset=UTF-8']);
    expect(challenged.headers['set-cookie']).toBeUndefined();
  });

  it('inspect calls wait as long as asked', async () => {
    const { url } = await serve({ unauthenticatedApi: true, inspectTimeout: 100 });
    const started = Date.now();
    expect(JSON.parse((await ask(`${url}/api/workers?refresh=true`)).body)).toEqual({});
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('the server’s mode and the caller reach the routes: read-only, sign-in, the user', async () => {
    const open = await serve({ inspectTimeout: 100 });
    const anonymous = await ask(`${open.url}/dashboard/config`, { headers: await pageCookie(open.url) });
    expect(JSON.parse(anonymous.body)).toEqual({ readOnly: false, backend: true, user: null, signIn: false });
    const locked = await serve({ basicAuth: ['admin:s3cret'], readOnly: true });
    const admin = await ask(`${locked.url}/dashboard/config`, { headers: { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` } });
    expect(JSON.parse(admin.body)).toEqual({ readOnly: true, backend: true, user: 'admin', signIn: false });
  });
});

describe('flower server: what it answers (in-process)', () => {
  it('the page: HTML under its CSP, the anonymous session only to a browser without one; POST / is no page', async () => {
    const { url } = await serve({});
    const page = await ask(`${url}/workers`);
    expect([page.status, page.body, page.headers['content-type'], page.headers['content-security-policy']]).toEqual([
      200,
      PAGE,
      'text/html; charset=UTF-8',
      PAGE_CSP,
    ]);
    expect(page.headers['x-frame-options']).toBe('DENY');
    const cookie = { Cookie: String(page.headers['set-cookie']).split(';')[0]! };
    const again = await ask(`${url}/workers`, { headers: cookie });
    expect([again.status, again.headers['set-cookie']]).toEqual([200, undefined]);
    expect((await ask(`${url}/`, { method: 'POST', headers: cookie })).status).toBe(404);
  });

  it('the static files to anyone, by GET, with their types; /metrics with its own', async () => {
    const { url } = await serve({ basicAuth: ['admin:s3cret'] });
    const css = await ask(`${url}/static/page.css`);
    expect([css.status, css.headers['content-type'], css.body]).toEqual([200, 'text/css; charset=utf-8', staticFiles().get('page.css')!.body]);
    expect((await ask(`${url}/static/page.css`, { method: 'POST' })).status).toBe(401);
    expect((await ask(`${url}/public/page.css`)).status).toBe(401);
    const open = await serve({});
    const metrics = await ask(`${open.url}/metrics`);
    expect([metrics.status, metrics.headers['content-type']]).toEqual([200, open.monitor.metrics.contentType]);
    expect(metrics.body).toContain('# TYPE');
    // Only GET: a POST is no metrics and no event stream.
    const cookie = await pageCookie(open.url);
    expect((await ask(`${open.url}/metrics`, { method: 'POST', headers: cookie })).status).toBe(404);
    expect((await ask(`${open.url}/dashboard/events`, { method: 'POST', headers: cookie })).status).toBe(404);
  });

  it('the event stream: a comment first, then each event the monitor gets, to the page’s session only', async () => {
    const server = await serve({});
    // Counts the listeners the stream removes from the monitor.
    const listen = server.monitor.listen.bind(server.monitor);
    let removed = 0;
    server.monitor.listen = (fn) => {
      const off = listen(fn);
      return () => {
        removed++;
        return off();
      };
    };
    expect((await ask(`${server.url}/dashboard/events`)).status).toBe(401);
    const stream = await fetch(`${server.url}/dashboard/events`, { headers: await pageCookie(server.url) });
    expect([stream.status, stream.headers.get('content-type'), stream.headers.get('connection')]).toEqual([200, 'text/event-stream', 'keep-alive']);
    const reader = stream.body!.getReader();
    const text = async (): Promise<string> => new TextDecoder().decode((await reader.read()).value);
    expect(await text()).toBe(': live\n\n');
    const uuid = randomUUID();
    server.monitor.event({ type: 'task-received', uuid, name: 'add', hostname: 'w@h', timestamp: Date.now() / 1000 } as never);
    const data = await text();
    expect(data).toMatch(/^data: \{.*\}\n\n$/);
    expect(JSON.parse(data.slice('data: '.length))).toMatchObject({ type: 'task-received', uuid });
    await reader.cancel();
    // The browser left: its listener goes.
    await until(async () => (removed === 1 ? true : undefined), 5000, 10);
  });

  it('routes: captures decoded, a malformed one refused, methods kept apart', async () => {
    const { url } = await serve({ unauthenticatedApi: true });
    const info = await ask(`${url}/api/task/info/celery%40host`);
    expect([info.status, errorOf(info.body)]).toEqual([404, "Unknown task 'celery@host'"]);
    const bad = await ask(`${url}/api/task/info/%E0%A4%A`);
    expect([bad.status, errorOf(bad.body)]).toEqual([400, 'malformed path']);
    const wrongMethod = await ask(`${url}/api/task/revoke/${randomUUID()}`);
    expect([wrongMethod.status, errorOf(wrongMethod.body)]).toEqual([404, 'Not found']);
  });

  it('bodies: JSON declared as JSON, a form read as arguments beside the query', async () => {
    const { url } = await serve({ unauthenticatedApi: true, inspectTimeout: 100 });
    const body = JSON.stringify({ args: [2, 3] });
    const plain = await ask(`${url}/api/task/send-task/add`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body });
    expect([plain.status, errorOf(plain.body)]).toEqual([415, 'Send the body as JSON, with Content-Type: application/json']);
    const sent = await ask(`${url}/api/task/send-task/add`, { method: 'POST', headers: json, body });
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body)).toEqual({ 'task-id': expect.any(String), state: 'PENDING' });
    const broken = await ask(`${url}/api/task/send-task/add`, { method: 'POST', headers: json, body: '{"args": [' });
    expect(broken.status).toBe(400);
    // With the form read, the rate reaches the route, which then looks the task up.
    const form = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' };
    const limited = await ask(`${url}/api/task/rate-limit/nosuch`, { method: 'POST', headers: form, body: 'ratelimit=10%2Fs' });
    expect([limited.status, errorOf(limited.body)]).toEqual([404, "Unknown task 'nosuch'"]);
    const unread = await ask(`${url}/api/task/rate-limit/nosuch`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'ratelimit=10%2Fs' });
    expect([unread.status, errorOf(unread.body)]).toEqual([400, 'Missing argument ratelimit']);
    const queried = await ask(`${url}/api/task/rate-limit/nosuch?ratelimit=1%2Fs`, { method: 'POST' });
    expect(queried.status).toBe(404);
    // A GET's body is not read: a form sent with it is no argument.
    expect((await ask(`${url}/api/tasks`, { headers: form, body: 'sort_by=nope' })).status).toBe(200);
    expect((await ask(`${url}/api/tasks?sort_by=nope`)).status).toBe(400);
  });

  it('errors: a bad search is the caller’s (400), a failure is the server’s (500), each with its message', async () => {
    const { url } = await serve({ unauthenticatedApi: true });
    const search = await ask(`${url}/api/tasks?search=${encodeURIComponent('"open')}`);
    expect([search.status, errorOf(search.body)]).toEqual([400, 'Unterminated quoted phrase at position 0.']);
    const waited = await ask(`${url}/api/task/result/${randomUUID()}?timeout=0.05`);
    expect([waited.status, errorOf(waited.body)]).toEqual([500, expect.stringMatching(/was not ready within 50 ms$/)]);
  });
});
