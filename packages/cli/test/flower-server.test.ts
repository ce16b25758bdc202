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
import { startFlower, type FlowerOptions, type FlowerServer } from '../src/flower/server.js';

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
