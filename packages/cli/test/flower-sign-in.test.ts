/**
 * The dashboard's sign-in (OpenID Connect) in-process, against a real provider (oidc-provider,
 * started here), driven by plain requests: the browser's steps of flower-oidc.test.ts (which runs
 * the `nori` CLI in a child, where a mutation audit cannot see them) one by one — the page sending
 * the browser to /login, /login to the provider, the provider's pages, the way back, the session,
 * signing out — and what is refused on the way.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { App } from '@nori/tasks';
import { UsageError } from '../src/errors.js';
import { allowedEmail, OidcSignIn } from '../src/flower/oidc.js';
import { startFlower, type FlowerOptions, type FlowerServer } from '../src/flower/server.js';
import { freePort } from './bin.js';
import { ask, type Answer } from './http-ask.js';

const setCookies = (a: Answer): string[] => a.headers['set-cookie'] ?? [];
const cookieOf = (a: Answer, name: string): string | undefined =>
  setCookies(a)
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`));

const SECRET = randomUUID();
const REDIRECTS = ['http://flower.test/login', 'https://flower.test/login'];
let issuer = '';
let provider: Server;

beforeAll(async () => {
  provider = createServer();
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  const oidc = new Provider(issuer, {
    clients: [{ client_id: 'nori-flower', client_secret: SECRET, redirect_uris: REDIRECTS, grant_types: ['authorization_code'], response_types: ['code'] }],
    // Every address is verified but those starting with 'unverified'; 'nomail' has none.
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => (sub === 'nomail' ? { sub } : { sub, email: sub, email_verified: !sub.startsWith('unverified') }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    cookies: { keys: [randomUUID()] },
  });
  provider.on('request', oidc.callback());
});
afterAll(() => void provider?.close());

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function serve(redirectUri = REDIRECTS[0]!, options: FlowerOptions = {}): Promise<FlowerServer> {
  const app = new App({ broker: 'memory://', backend: 'memory://', defaultQueue: `flower-sign-in-${randomUUID().slice(0, 8)}` });
  closing.push(() => app.close());
  const oidc = { issuer, clientId: 'nori-flower', clientSecret: SECRET, redirectUri, allowed: '*@example.com' };
  const server = await startFlower(app, { port: 0, oidc, ...options });
  closing.push(() => server.close());
  return server;
}

/** The provider's pages (its development login, then consent), as a browser fills them in, until it sends the browser back. */
async function atProvider(location: string, email: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(location);
  let form: { method: string; body?: string } = { method: 'GET' };
  for (let step = 0; step < 12; step++) {
    if (url.origin !== issuer) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const headers: Record<string, string> = { Cookie: cookie, ...(form.body !== undefined && { 'Content-Type': 'application/x-www-form-urlencoded' }) };
    const r = await ask(url.href, { method: form.method, headers, body: form.body });
    for (const c of setCookies(r)) {
      const [k, v] = c.split(';')[0]!.split('=') as [string, string];
      jar.set(k, v);
    }
    if (r.headers.location) {
      url = new URL(r.headers.location, url);
      form = { method: 'GET' };
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(r.body)?.[1];
    if (!action) throw new Error(`no form at ${url.href}: ${r.status} ${r.body.slice(0, 200)}`);
    const fields = new URLSearchParams();
    for (const [, name, value] of r.body.matchAll(/<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?/g)) fields.set(name!, value ?? '');
    if (fields.has('login')) fields.set('login', email);
    if (fields.has('password')) fields.set('password', 'any');
    url = new URL(action, url);
    form = { method: 'POST', body: fields.toString() };
  }
  throw new Error(`the provider did not send the browser back (at ${url.href})`);
}

/** Where the provider sends the browser back, and the cookie binding the sign-in to it. */
async function toProvider(server: FlowerServer, login: string, email: string): Promise<{ back: URL; bind: string }> {
  const started = await ask(`${server.url}${login}`);
  expect(started.status).toBe(302);
  expect(started.headers.location).toMatch(new RegExp(`^${issuer}/auth\\?`));
  const bind = cookieOf(started, 'nori_flower_login')!;
  const back = await atProvider(started.headers.location!, email);
  expect(back.host).toBe('flower.test');
  return { back, bind };
}

/** The browser back from the provider's site at the redirect URI's host, with `cookie`. */
const comeBack = (server: FlowerServer, back: URL, cookie: string): Promise<Answer> =>
  ask(`${server.url}${back.pathname}${back.search}`, {
    headers: { Host: 'flower.test', Cookie: cookie, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' },
  });

/** A browser's sign-in from asking for `path`: what /login answers when the provider sends it back. */
async function signIn(server: FlowerServer, email: string, path = '/tasks?state=SUCCESS'): Promise<Answer> {
  const page = await ask(`${server.url}${path}`);
  expect([page.status, page.headers.location, page.body, page.headers['content-type']]).toEqual([
    302,
    `/login?next=${encodeURIComponent(path)}`,
    'Sign in at /login',
    'text/plain; charset=UTF-8',
  ]);
  const { back, bind } = await toProvider(server, page.headers.location!, email);
  return comeBack(server, back, `other=1; ${bind}`);
}

describe('flower sign-in (in-process)', () => {
  it('the page sends the browser to sign in and back where it was going; the session reaches the API; signing out ends it', async () => {
    const server = await serve();
    const back = await signIn(server, 'ana@example.com');
    expect([back.status, back.headers['content-type'], back.headers['content-security-policy']]).toEqual([
      200,
      'text/html; charset=UTF-8',
      "default-src 'none'",
    ]);
    expect(back.body).toContain('Signed in as ana@example.com');
    expect(back.body).toContain('content="0;url=/tasks?state=SUCCESS"');
    expect(setCookies(back)).toContain('nori_flower_login=; Path=/login; HttpOnly; SameSite=Lax; Max-Age=0');
    expect(setCookies(back).find((c) => c.startsWith('nori_flower_session='))).toMatch(
      /^nori_flower_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    const session = { Cookie: cookieOf(back, 'nori_flower_session')! };
    const config = await ask(`${server.url}/dashboard/config`, { headers: session });
    expect(JSON.parse(config.body)).toEqual({ readOnly: false, backend: true, user: 'ana@example.com', signIn: true });
    const page = await ask(`${server.url}/tasks`, { headers: session });
    expect([page.status, page.headers['set-cookie']]).toEqual([200, undefined]);
    const out = await ask(`${server.url}/logout`, { method: 'POST', headers: session });
    expect([out.status, JSON.parse(out.body), setCookies(out)]).toEqual([
      200,
      { message: 'Signed out' },
      ['nori_flower_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0'],
    ]);
    const after = await ask(`${server.url}/api/tasks`, { headers: session });
    expect([after.status, after.headers['www-authenticate']]).toEqual([401, undefined]);
    expect(JSON.parse(after.body)).toEqual({ error: 'Sign in at /login (or call with basic auth, if nori flower was given --basic-auth)' });
  });

  it('an https redirect URI makes the session cookie Secure', async () => {
    const back = await signIn(await serve(REDIRECTS[1]), 'ana@example.com', '/');
    expect(back.status).toBe(200);
    expect(setCookies(back).find((c) => c.startsWith('nori_flower_session='))).toMatch(/; SameSite=Strict; Secure; Max-Age=43200$/);
  });

  it('refuses an address --auth does not allow, an unverified one, and a refusal of the provider', async () => {
    const server = await serve();
    for (const email of ['eve@evil.example', 'unverified@example.com']) {
      const back = await signIn(server, email, '/');
      expect([back.status, back.headers['content-type'], cookieOf(back, 'nori_flower_session')]).toEqual([403, 'text/plain; charset=UTF-8', undefined]);
      expect(back.body).toBe(`Access denied to '${email}': sign in with another account, or ask for it to be added to --auth\nSign in again at /login`);
    }
    const refused = await ask(`${server.url}/login?error=access_denied&error_description=no`);
    expect([refused.status, refused.body]).toEqual([403, 'The sign-in provider refused: access_denied (no)\nSign in again at /login']);
  });

  it('a callback the browser did not start is refused; only /login is a place another site may send the browser', async () => {
    const server = await serve();
    const forged = await ask(`${server.url}/login?code=made-up&state=made-up`);
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('not started in this browser');
    const navigate = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' };
    expect((await ask(`${server.url}/login`, { headers: navigate })).status).toBe(302);
    expect((await ask(`${server.url}/dashboard/config`, { headers: navigate })).status).toBe(403);
    expect((await ask(`${server.url}/logout`, { method: 'POST', headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    // Foreign hosts stay refused: only the redirect URI's host joined the server's names.
    expect((await ask(`${server.url}/login`, { headers: { Host: 'evil.example' } })).status).toBe(403);
  });

  it('basic auth beside sign-in: scripts are let in, and not challenged without it', async () => {
    const server = await serve(REDIRECTS[0], { basicAuth: ['robot:b33p'] });
    const robot = { Authorization: `Basic ${Buffer.from('robot:b33p').toString('base64')}` };
    expect((await ask(`${server.url}/api/tasks`, { headers: robot })).status).toBe(200);
    const bare = await ask(`${server.url}/api/tasks`);
    expect([bare.status, bare.headers['www-authenticate']]).toEqual([401, undefined]);
  });

  it('/login asks the provider for the address, with PKCE, state and nonce, bound to the browser for 10 minutes', async () => {
    const server = await serve();
    const started = await ask(`${server.url}/login`);
    const to = new URL(started.headers.location!);
    const state = to.searchParams.get('state')!;
    expect(Object.fromEntries([...to.searchParams].filter(([k]) => k !== 'state' && k !== 'nonce' && k !== 'code_challenge'))).toEqual({
      client_id: 'nori-flower',
      redirect_uri: REDIRECTS[0],
      response_type: 'code',
      scope: 'openid email',
      code_challenge_method: 'S256',
    });
    expect(to.searchParams.get('nonce')).toMatch(/^[\w-]{32}$/);
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect([started.body, started.headers['content-type']]).toEqual([`Sign in at ${to.href}`, 'text/plain; charset=UTF-8']);
    expect(setCookies(started)).toEqual([`nori_flower_login=${state}; Path=/login; HttpOnly; SameSite=Lax; Max-Age=600`]);
    // Only GET /login and POST /logout are sign-in's.
    expect((await ask(`${server.url}/login`, { method: 'POST' })).status).toBe(401);
    expect((await ask(`${server.url}/logout`)).status).toBe(401);
  });

  it('goes back only to a path of this server, written safely into the page', async () => {
    const server = await serve();
    for (const [next, to] of [
      ['//evil.example/x', '/'],
      ['/\\evil.example', '/'],
      ['https://evil.example/', '/'],
      ['/tasks?a=1&b="<x>"', '/tasks?a=1&#38;b=&#34;&#60;x&#62;&#34;'],
    ]) {
      const { back, bind } = await toProvider(server, `/login?next=${encodeURIComponent(next!)}`, 'ana@example.com');
      const page = await comeBack(server, back, bind);
      expect(page.body, next).toContain(`content="0;url=${to}"`);
      expect(page.body, next).toContain(`<a href="${to}">continue</a>`);
    }
    const { back, bind } = await toProvider(server, '/login', "o'neil@example.com");
    expect((await comeBack(server, back, bind)).body).toContain('Signed in as o&#39;neil@example.com:');
  });

  it('a sign-in is used once, by the browser that started it, within 10 minutes', async () => {
    const server = await serve();
    const first = await toProvider(server, '/login', 'ana@example.com');
    const second = await toProvider(server, '/login', 'ana@example.com');
    // Another sign-in's cookie does not carry this one.
    const crossed = await comeBack(server, first.back, second.bind);
    expect([crossed.status, crossed.body]).toEqual([
      403,
      'This sign-in was not started in this browser, or took too long: sign in again\nSign in again at /login',
    ]);
    expect((await comeBack(server, first.back, first.bind)).status).toBe(200);
    expect((await comeBack(server, first.back, first.bind)).status).toBe(403);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 + 1000 });
    try {
      expect((await comeBack(server, second.back, second.bind)).body).toMatch(/^This sign-in was not started in this browser, or took too long/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a token exchange the provider refuses (here: a wrong client secret) fails the sign-in', async () => {
    const app = new App({ broker: 'memory://', defaultQueue: `flower-sign-in-${randomUUID().slice(0, 8)}` });
    closing.push(() => app.close());
    const oidc = { issuer, clientId: 'nori-flower', clientSecret: 'wrong', redirectUri: REDIRECTS[0]!, allowed: '*@example.com' };
    const server = await startFlower(app, { port: 0, oidc });
    closing.push(() => server.close());
    const { back, bind } = await toProvider(server, '/login', 'ana@example.com');
    const failed = await comeBack(server, back, bind);
    expect([failed.status, cookieOf(failed, 'nori_flower_session')]).toEqual([403, undefined]);
    expect(failed.body).toMatch(/^Sign-in failed: .+\nSign in again at \/login$/);
  });

  it('refuses an account with no address, and a provider refusal without a description', async () => {
    const server = await serve();
    const { back, bind } = await toProvider(server, '/login', 'nomail');
    const none = await comeBack(server, back, bind);
    expect([none.status, none.body]).toEqual([
      403,
      'The sign-in provider gave no e-mail address (the client needs the "email" scope)\nSign in again at /login',
    ]);
    const refused = await ask(`${server.url}/login?error=access_denied`);
    expect([refused.status, refused.body]).toEqual([403, 'The sign-in provider refused: access_denied\nSign in again at /login']);
  });

  it('a provider that cannot be reached: 502 with the issuer, and found once it answers', async () => {
    const port = await freePort();
    const late = `http://127.0.0.1:${port}`;
    const app = new App({ broker: 'memory://', defaultQueue: `flower-sign-in-${randomUUID().slice(0, 8)}` });
    closing.push(() => app.close());
    const oidc = { issuer: late, clientId: 'nori-flower', clientSecret: SECRET, redirectUri: REDIRECTS[0]!, allowed: '*@example.com' };
    const server = await startFlower(app, { port: 0, oidc });
    closing.push(() => server.close());
    const down = await ask(`${server.url}/login`);
    expect(down.status).toBe(502);
    expect((JSON.parse(down.body) as { error: string }).error).toMatch(new RegExp(`^the sign-in provider ${late} could not be reached: .+`));
    const up = new Provider(late, { clients: [{ client_id: 'nori-flower', client_secret: SECRET, redirect_uris: REDIRECTS }] }).listen(port);
    closing.push(() => new Promise<void>((resolve) => up.close(() => resolve())));
    await new Promise((resolve) => up.once('listening', resolve));
    const found = await ask(`${server.url}/login`);
    expect([found.status, found.headers.location?.startsWith(`${late}/auth?`)]).toEqual([302, true]);
  });

  it('takes an https issuer, or http on this machine only', () => {
    const o = { clientId: 'c', clientSecret: 's', redirectUri: REDIRECTS[0]!, allowed: '*@example.com' };
    for (const issuer of ['https://accounts.example.com', 'http://127.0.0.1:9', 'http://localhost:9', 'http://[::1]:9'])
      expect(() => new OidcSignIn({ ...o, issuer }), issuer).not.toThrow();
    for (const issuer of ['http://accounts.example.com', 'ftp://127.0.0.1'])
      expect(() => new OidcSignIn({ ...o, issuer }), issuer).toThrow(`--oauth2-issuer must be an https URL (http only on this machine), got ${issuer}`);
    for (const allowed of ['*@*.example.com', '*a*@example.com'])
      expect(() => new OidcSignIn({ ...o, issuer: 'https://x.example', allowed }), allowed).toThrow(
        new UsageError(`--auth takes addresses separated by | or one pattern such as *@example.com, got "${allowed}"`),
      );
    // The wildcard stands for any characters after what comes before it, all of it.
    expect([allowedEmail('one*@example.com', 'one2@example.com'), allowedEmail('one*@example.com', 'onx@example.com')]).toEqual([true, false]);
  });
});
