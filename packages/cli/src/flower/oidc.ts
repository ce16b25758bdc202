/**
 * Sign-in with an OpenID Connect provider (any: found by its issuer URL through discovery), the
 * authorization code flow with PKCE, `state` and `nonce`, through openid-client (which checks the
 * ID token's signature, issuer, audience, expiry and nonce). The flow is bound to the browser that
 * started it by a cookie holding its `state`, so a sign-in cannot be pushed onto someone else's
 * browser. Who may sign in is Flower's `--auth`: e-mail addresses separated by `|`, or a pattern
 * with one wildcard before the domain (`.*@example.com` as Flower writes it, or `*@example.com`); an
 * address the provider says is unverified is refused.
 */
import { randomBytes } from 'node:crypto';
import type { Configuration } from 'openid-client';
import { HttpError, UsageError } from '../errors.js';

export interface OidcOptions {
  /** The provider's issuer URL, e.g. https://accounts.google.com (https, or http on this machine). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: this server's /login as the browser reaches it. */
  redirectUri: string;
  /** Flower's --auth: 'a@x.com|b@y.com', or '*@example.com'. */
  allowed: string;
}

/** A sign-in under way, between /login sending the browser to the provider and it coming back. */
interface Pending {
  verifier: string;
  nonce: string;
  next: string;
  expires: number;
}

export const LOGIN_COOKIE = 'nori_flower_login';
const PENDING_MS = 10 * 60_000;
const MAX_PENDING = 1000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Flower's validate_auth_option: one `*` at most, not with `|`, and not in the domain. */
export function checkAllowed(pattern: string): void {
  const stars = pattern.split('*').length - 1;
  if (stars > 1 || (stars === 1 && pattern.includes('|')) || pattern.slice(pattern.lastIndexOf('@') + 1).includes('*'))
    throw new UsageError(`--auth takes addresses separated by | or one pattern such as *@example.com, got "${pattern}"`);
}

/**
 * Flower's authenticate(): exact addresses, or the pattern with its wildcard standing for the local
 * part's characters (Flower writes it `.*@example.com`; `*@example.com` reads the same).
 */
export function allowedEmail(pattern: string, email: string): boolean {
  if (pattern.includes('|')) return pattern.split('|').includes(email);
  if (pattern.includes('*')) {
    const [dotted, tail] = pattern.split('*') as [string, string];
    const head = dotted.endsWith('.') ? dotted.slice(0, -1) : dotted;
    const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^${escape(head)}[A-Za-z0-9!#$%&'*+/=?^_\`{|}~.\\-]*${escape(tail)}$`).test(email);
  }
  return pattern === email;
}

/** Only a relative path of this server: no open redirect through `next`. */
const safeNext = (next: string | null): string => (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/');

export class OidcSignIn {
  readonly #o: OidcOptions;
  readonly #pending = new Map<string, Pending>();
  #config: Promise<Configuration> | undefined;

  constructor(o: OidcOptions) {
    checkAllowed(o.allowed);
    const issuer = new URL(o.issuer);
    if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname)))
      throw new UsageError(`--oauth2-issuer must be an https URL (http only on this machine), got ${o.issuer}`);
    this.#o = o;
  }

  /** The provider's metadata, discovered once (again after a failure). */
  #discover(): Promise<Configuration> {
    this.#config ??= (async () => {
      const client = await import('openid-client');
      const issuer = new URL(this.#o.issuer);
      const insecure = issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined;
      return client.discovery(issuer, this.#o.clientId, this.#o.clientSecret, undefined, insecure);
    })().catch((error: unknown) => {
      this.#config = undefined;
      throw new HttpError(502, `the sign-in provider ${this.#o.issuer} could not be reached: ${(error as Error).message}`);
    });
    return this.#config;
  }

  /** Where to send the browser, and the cookie that binds the sign-in to it. */
  async start(next: string | null): Promise<{ location: string; cookie: string }> {
    const client = await import('openid-client');
    const config = await this.#discover();
    const verifier = client.randomPKCECodeVerifier();
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    const now = Date.now();
    for (const [s, p] of this.#pending) if (p.expires < now || this.#pending.size >= MAX_PENDING) this.#pending.delete(s);
    this.#pending.set(state, { verifier, nonce, next: safeNext(next), expires: now + PENDING_MS });
    const location = client.buildAuthorizationUrl(config, {
      redirect_uri: this.#o.redirectUri,
      scope: 'openid email',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    // Lax: the browser must send it back on the provider's redirect, a navigation from another site.
    return { location: location.href, cookie: `${LOGIN_COOKIE}=${state}; Path=/login; HttpOnly; SameSite=Lax; Max-Age=${PENDING_MS / 1000}` };
  }

  /** The provider sent the browser back: the signed-in address and where it was going. */
  async finish(query: URLSearchParams, boundState: string | undefined): Promise<{ email: string; next: string }> {
    const error = query.get('error');
    if (error)
      throw new HttpError(403, `The sign-in provider refused: ${error}${query.has('error_description') ? ` (${query.get('error_description')})` : ''}`);
    const state = query.get('state') ?? '';
    const pending = this.#pending.get(state);
    if (!pending || pending.expires < Date.now() || boundState !== state)
      throw new HttpError(403, 'This sign-in was not started in this browser, or took too long: sign in again');
    this.#pending.delete(state);
    const client = await import('openid-client');
    const config = await this.#discover();
    const callback = new URL(this.#o.redirectUri);
    callback.search = query.toString();
    let who: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('no ID token');
      // Providers put the address in the ID token or only in the user info (oidc-provider's default).
      who = typeof claims['email'] === 'string' ? claims : await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (e) {
      throw new HttpError(403, `Sign-in failed: ${(e as Error).message}`);
    }
    const email = who['email'];
    const verified = who['email_verified'];
    if (typeof email !== 'string') throw new HttpError(403, 'The sign-in provider gave no e-mail address (the client needs the "email" scope)');
    if (verified === false || !allowedEmail(this.#o.allowed, email))
      throw new HttpError(403, `Access denied to '${email}': sign in with another account, or ask for it to be added to --auth`);
    return { email, next: pending.next };
  }
}
