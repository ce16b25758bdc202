/**
 * `nori flower` signing users in with an OpenID Connect provider: a real one, oidc-provider (the
 * certified implementation) started by the test, found by its issuer URL. In Chromium: a page asked
 * for sends the browser to the provider and back to that page signed in; an address --auth does
 * not allow is refused; signing out ends the session. Without a session the API answers 401 (basic
 * auth still serves scripts), and a callback not started in the browser is refused.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, cleanUp, freePort, start } from './bin.js';
import { launchChromium } from './chromium.js';

const queue = `cli-oidc-${randomUUID().slice(0, 8)}`;
const SECRET = randomUUID();
const conn = new Connection(REDIS);
const browsers: BrowserContext[] = [];
let issuer = '';
let base = '';
let provider: Server;

/** A browser of its own (its own cookies, at the provider too). */
async function browser(): Promise<Page> {
  const context = await launchChromium();
  browsers.push(context);
  return context.pages()[0] ?? context.newPage();
}

/** The provider's own pages (oidc-provider's development login, then its consent), until it sends the browser back. */
async function signInAtProvider(page: Page, email: string): Promise<void> {
  await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 10_000 });
  for (let step = 0; step < 4 && page.url().startsWith(issuer); step++) {
    const at = page.url();
    if (await page.locator('input[name="login"]').count()) {
      await page.fill('input[name="login"]', email);
      await page.fill('input[name="password"]', 'any');
    }
    await page.click('button[type="submit"]');
    await page
      .waitForURL((u) => u.href !== at, { timeout: 10_000, waitUntil: 'commit' })
      .catch(async (e: unknown) => {
        throw new Error(`${String(e)} at ${page.url()}`);
      });
  }
}

beforeAll(async () => {
  const [flowerPort, providerPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${providerPort}`;
  base = `http://127.0.0.1:${flowerPort}`;
  const oidc = new Provider(issuer, {
    clients: [
      { client_id: 'nori-flower', client_secret: SECRET, redirect_uris: [`${base}/login`], grant_types: ['authorization_code'], response_types: ['code'] },
    ],
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, email: sub, email_verified: true }) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    cookies: { keys: [randomUUID()] },
  });
  provider = oidc.listen(providerPort);
  const env = {
    NORI_TEST_BROKER: REDIS,
    NORI_TEST_BACKEND: BACKEND,
    NORI_TEST_QUEUE: queue,
    ...APP_NAMES_ENV,
    NORI_FLOWER_OAUTH2_KEY: 'nori-flower',
    NORI_FLOWER_OAUTH2_SECRET: SECRET,
  };
  const flower = start(
    ['-A', APP, 'flower', '--port', String(flowerPort), '--oauth2-issuer', issuer, '--auth', '.*@example.com', '--basic-auth', 'robot:b33p'],
    env,
  );
  await flower.waitFor(/nori flower on http/);
  expect(flower.stderr).not.toContain(SECRET);
}, 60_000);

afterAll(async () => {
  for (const b of browsers) await b.close();
  provider?.close();
  await cleanUp(conn, [queue]);
});

describe('nori flower: sign-in with an OpenID Connect provider', () => {
  it('sends the browser to the provider and back to the page it asked for, signed in; signing out ends it', async () => {
    const page = await browser();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/tasks?state=SUCCESS`);
    await signInAtProvider(page, 'ana@example.com');
    await page.waitForURL(`${base}/tasks?state=SUCCESS`, { timeout: 10_000 });
    await page.locator('#user').filter({ hasText: 'ana@example.com' }).waitFor({ timeout: 10_000 });
    await page.locator('#live').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#state-filter').inputValue()).toBe('SUCCESS');
    // The page's session reaches the API; the same call without it does not.
    expect(await page.evaluate('fetch("/api/tasks").then((r) => r.status)')).toBe(200);
    const bare = await fetch(`${base}/api/tasks`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBeNull();
    expect(((await bare.json()) as { error: string }).error).toContain('Sign in at /login');

    // Signing out ends this session (the provider's own may stay, and sign the browser in again).
    const session = (await page.context().cookies(base)).find((c) => c.name === 'nori_flower_session')!;
    const withSession = { Cookie: `${session.name}=${session.value}` };
    expect((await fetch(`${base}/api/tasks`, { headers: withSession })).status).toBe(200);
    const out = page.waitForResponse((r) => r.url() === `${base}/logout`);
    await page.click('#sign-out');
    expect((await out).status()).toBe(200);
    expect((await fetch(`${base}/api/tasks`, { headers: withSession })).status).toBe(401);
    expect(problems).toEqual([]);
  });

  it("refuses an address --auth does not allow, with Flower's words", async () => {
    const page = await browser();
    await page.goto(base);
    await signInAtProvider(page, 'eve@evil.example');
    await page.waitForURL((u) => u.href.startsWith(`${base}/login`), { timeout: 10_000 });
    expect(await page.locator('body').textContent()).toContain("Access denied to 'eve@evil.example'");
    // No session came of it: the page still sends the browser to sign in (the provider, which
    // remembers eve, sends it straight back, and eve is refused again).
    await page.goto(`${base}/tasks`);
    await page.waitForURL((u) => u.href.startsWith(`${base}/login?code=`), { timeout: 10_000 });
    expect(await page.locator('body').textContent()).toContain("Access denied to 'eve@evil.example'");
  });

  it('a callback the browser did not start is refused; scripts use basic auth', async () => {
    const forged = await fetch(`${base}/login?code=made-up&state=made-up`);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('not started in this browser');
    const login = await fetch(`${base}/login?next=//evil.example/x`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toMatch(new RegExp(`^${issuer}/auth\\?`));
    expect(login.headers.get('set-cookie')).toMatch(/^nori_flower_login=[\w-]+; Path=\/login; HttpOnly; SameSite=Lax/);
    const page = await fetch(`${base}/workers`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2Fworkers');
    const robot = { Authorization: `Basic ${Buffer.from('robot:b33p').toString('base64')}` };
    expect((await fetch(`${base}/api/workers?status=true`, { headers: robot })).status).toBe(200);
  });
});
