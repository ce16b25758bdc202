/**
 * The dashboard's request guard and sessions in-process, case by case: the end-to-end tests
 * (flower-security.test.ts) run the server in a child process, where a mutation audit cannot
 * see which of these checks they depend on.
 */
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import { Auth, SESSION_COOKIE } from '../src/flower/auth.js';
import { RequestGuard } from '../src/flower/guard.js';

const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

/** The status a guard check refuses with, or 'ok'. */
function status(check: () => void): number | 'ok' {
  try {
    check();
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return (error as HttpError).status;
  }
}

// Guards are made inside each test: one made while the file loads is invisible to a mutation run's per-test coverage.
describe('RequestGuard.host', () => {
  const guard = (): RequestGuard => new RequestGuard('127.0.0.1', ['Flower.Example.com.', '*.example.org']);
  const host = (h: string | undefined): number | 'ok' => status(() => guard().host(req(h === undefined ? {} : { host: h })));

  it("accepts the server's own names in any case, with or without a port or a final dot", () => {
    for (const h of [
      'localhost',
      'LOCALHOST:5555',
      'localhost.:5555',
      '127.0.0.1:5555',
      '[::1]:5555',
      '[::1]',
      'flower.example.com',
      'flower.example.com:',
      hostname(),
    ])
      expect(host(h), h).toBe('ok');
  });

  it('refuses any other name, saying which and how to allow it; a missing Host is a bad request', () => {
    expect(host('rebind.evil.example:5555')).toBe(403);
    expect(host('[::2]:5555')).toBe(403);
    expect(host('127.0.0.2')).toBe(403);
    // Brackets only around a whole name, a port only at the end, no wildcard names.
    expect(host('local[host]:5555')).toBe(403);
    expect(host('local:host')).toBe(403);
    expect(host('a.example.org')).toBe(403);
    expect(host('')).toBe(400);
    expect(host(undefined)).toBe(400);
    expect(() => guard().host(req({}))).toThrow('Host header missing');
    expect(() => guard().host(req({ host: 'Rebind.Evil.example:5555' }))).toThrow(
      'Host "rebind.evil.example" is not this server\'s name; if it is (a proxy, a DNS name), start nori flower with --allowed-hosts rebind.evil.example',
    );
  });

  it("adds the machine's addresses only when listening on all of them; '*' allows any Host", () => {
    const address = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .map((a) => a.address)
      .find((a) => a !== '127.0.0.1' && a !== '::1');
    if (address !== undefined) {
      const h = address.includes(':') ? `[${address}]:80` : `${address}:80`;
      expect(status(() => new RequestGuard('0.0.0.0').host(req({ host: h })))).toBe('ok');
      expect(status(() => new RequestGuard('::').host(req({ host: h })))).toBe('ok');
      expect(status(() => new RequestGuard('127.0.0.1').host(req({ host: h })))).toBe(403);
    }
    expect(status(() => new RequestGuard('10.9.8.7').host(req({ host: '10.9.8.7:80' })))).toBe('ok');
    expect(status(() => new RequestGuard('127.0.0.1', ['*']).host(req({ host: 'anything.example' })))).toBe('ok');
    expect(status(() => new RequestGuard('127.0.0.1', ['*']).host(req({})))).toBe(400);
  });
});

describe('RequestGuard.origin', () => {
  const guard = (): RequestGuard => new RequestGuard('127.0.0.1', ['proxy.example.com']);
  const check = (headers: Record<string, string>, change: boolean, navigable = false): number | 'ok' =>
    status(() => guard().origin(req({ host: 'localhost:5555', ...headers }), change, navigable));

  it('lets reads through from the same origin, a typed address, or no browser at all', () => {
    for (const site of [undefined, 'same-origin', 'none']) expect(check(site ? { 'sec-fetch-site': site } : {}, false), site).toBe('ok');
  });

  it('refuses a read from another site unless it navigates to a navigable route', () => {
    expect(check({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }, false, true)).toBe(403);
    expect(check({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' }, false, false)).toBe(403);
    expect(check({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }, false, true)).toBe('ok');
    expect(() => guard().origin(req({ 'sec-fetch-site': 'cross-site' }), false, false)).toThrow('Cross-site request refused (Sec-Fetch-Site: cross-site)');
  });

  it('refuses any change from another site, even a navigation', () => {
    expect(check({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' }, true, true)).toBe(403);
    expect(() => guard().origin(req({ 'sec-fetch-site': 'cross-site' }), true, true)).toThrow('Cross-site change refused (Sec-Fetch-Site: cross-site)');
  });

  it("accepts a change whose Origin is the request's own host or a configured name, and no other", () => {
    expect(check({}, true)).toBe('ok');
    expect(check({ origin: 'http://localhost:5555', 'sec-fetch-site': 'same-origin' }, true)).toBe('ok');
    expect(check({ origin: 'http://LOCALHOST:5555' }, true)).toBe('ok');
    expect(status(() => guard().origin(req({ host: 'LocalHost:5555', origin: 'http://localhost:5555' }), true, false))).toBe('ok');
    expect(check({ origin: 'https://proxy.example.com' }, true)).toBe('ok');
    expect(check({ origin: 'http://localhost:5556' }, true)).toBe(403);
    expect(check({ origin: 'http://evil.example' }, true)).toBe(403);
    expect(check({ origin: 'null' }, true)).toBe(403);
    expect(() => guard().origin(req({ host: 'localhost:5555', origin: 'http://evil.example' }), true, false)).toThrow(
      'Cross-origin change refused (Origin: http://evil.example)',
    );
    // No Host to compare with: only a configured name passes.
    expect(status(() => guard().origin(req({ origin: 'http://localhost:5555' }), true, false))).toBe(403);
  });
});

describe('RequestGuard.jsonBody', () => {
  const guard = (): RequestGuard => new RequestGuard('127.0.0.1');
  const body = (type: string | undefined, text: string): number | 'ok' =>
    status(() => guard().jsonBody(req(type === undefined ? {} : { 'content-type': type }), text));

  it('accepts a body declared JSON, and no type only with no body', () => {
    expect(body('application/json', '{}')).toBe('ok');
    expect(body(' Application/JSON ; charset=utf-8', '{}')).toBe('ok');
    expect(body(undefined, '')).toBe('ok');
    expect(body(undefined, '{}')).toBe(415);
    expect(body('text/plain', '{}')).toBe(415);
    expect(body('text/plain', '')).toBe(415);
    expect(body('application/x-www-form-urlencoded', 'a=1')).toBe(415);
    expect(() => guard().jsonBody(req({ 'content-type': 'text/plain' }), '')).toThrow('Send the body as JSON, with Content-Type: application/json');
  });
});

const basic = (credentials: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
const tokenOf = (setCookie: string): string => setCookie.split(';')[0]!;

describe('Auth', () => {
  it('basic auth: the user of matching credentials, nobody otherwise', () => {
    const auth = new Auth({ basicAuth: ['admin:s3cret', 'ops:pa:ss'] });
    expect(auth.basic).toBe(true);
    expect(auth.open).toBe(false);
    expect(auth.pageCookie()).toBeUndefined();
    expect(auth.user(req(basic('admin:s3cret')))).toBe('admin');
    expect(auth.user(req(basic('ops:pa:ss')))).toBe('ops');
    expect(auth.user(req(basic('admin:wrong')))).toBeUndefined();
    expect(auth.user(req(basic('admin:s3cret ')))).toBeUndefined();
    expect(auth.user(req({}))).toBeUndefined();
  });

  it('basic auth beside sign-in: a session cookie still counts when the Authorization header is not Basic', () => {
    const auth = new Auth({ basicAuth: ['admin:s3cret'], signIn: true });
    const session = tokenOf(auth.signIn('ana@example.com', 60_000));
    expect(auth.user(req({ cookie: session }))).toBe('ana@example.com');
    expect(auth.user(req({ authorization: 'Bearer abc', cookie: session }))).toBe('ana@example.com');
    expect(auth.user(req({ ...basic('admin:wrong'), cookie: session }))).toBeUndefined();
  });

  it('open (no basic auth, no sign-in): the page cookie carries the anonymous session, forever', () => {
    const auth = new Auth({});
    expect(auth.basic).toBe(false);
    expect(auth.open).toBe(true);
    const set = auth.pageCookie()!;
    expect(set).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
    expect(auth.user(req({ cookie: tokenOf(set) }))).toBe('anonymous');
    expect(auth.user(req({ cookie: `a=1; ${tokenOf(set)} ; b=2` }))).toBe('anonymous');
    expect(auth.user(req({ cookie: `x${tokenOf(set)}` }))).toBeUndefined();
    expect(auth.user(req({ cookie: `${SESSION_COOKIE}=forged` }))).toBeUndefined();
    expect(auth.user(req({ cookie: SESSION_COOKIE }))).toBeUndefined();
    // Signing out of the shared anonymous session does not end it for everybody.
    expect(auth.signOut(req({ cookie: tokenOf(set) }))).toBe(`${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    expect(auth.user(req({ cookie: tokenOf(set) }))).toBe('anonymous');
    // A Basic header with no basic users configured is not a credential; the cookie still counts.
    expect(auth.user(req({ ...basic('admin:s3cret'), cookie: tokenOf(set) }))).toBe('anonymous');
  });

  it('sign-in sessions: Secure over https, Max-Age from the ttl, ended by expiry and by signing out', () => {
    const auth = new Auth({ signIn: true, secure: true });
    expect(auth.open).toBe(false);
    expect(auth.pageCookie()).toBeUndefined();
    const set = auth.signIn('ana@example.com', 90_500);
    expect(set).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=90$`));
    const other = auth.signIn('bo@example.com', 60_000);
    expect(tokenOf(other)).not.toBe(tokenOf(set));
    expect(auth.user(req({ cookie: tokenOf(set) }))).toBe('ana@example.com');
    auth.signOut(req({ cookie: tokenOf(set) }));
    expect(auth.user(req({ cookie: tokenOf(set) }))).toBeUndefined();
    expect(auth.user(req({ cookie: tokenOf(other) }))).toBe('bo@example.com');

    const expired = auth.signIn('cy@example.com', -1);
    expect(auth.user(req({ cookie: tokenOf(expired) }))).toBeUndefined();
    expect(new Auth({ signIn: true }).signIn('ana@example.com', 1000)).not.toContain('Secure');
  });

  it('keeps at most 10 000 sessions, dropping the oldest first', () => {
    const auth = new Auth({ signIn: true });
    const first = tokenOf(auth.signIn('first', 60_000));
    const second = tokenOf(auth.signIn('second', 60_000));
    for (let i = 2; i < 10_000; i++) auth.signIn(`user${i}`, 60_000);
    expect(auth.user(req({ cookie: first }))).toBe('first');
    auth.signIn('one more', 60_000);
    expect(auth.user(req({ cookie: first }))).toBeUndefined();
    expect(auth.user(req({ cookie: second }))).toBe('second');
  });
});
