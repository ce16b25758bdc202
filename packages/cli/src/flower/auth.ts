/**
 * Who a request comes from: a user of --basic-auth (its Authorization header), or the holder of a
 * session cookie. Sign-in (OpenID Connect) gives a session per user; with no sign-in configured,
 * the page gives the browser that loads it the server's one anonymous session, so the page works
 * while the API still refuses callers without it. The cookie is HttpOnly and SameSite=Strict: a
 * page of another site can neither read it nor make the browser send it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'nori_flower_session';
/** Sessions kept at once; the oldest goes first. */
const MAX_SESSIONS = 10_000;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

interface Session {
  user: string;
  expires: number;
}

export class Auth {
  readonly #users: Buffer[];
  readonly #sessions = new Map<string, Session>();
  readonly #secure: boolean;
  readonly #anonymous: string | undefined;

  /** `signIn`: sessions come from a sign-in (OIDC), not from loading the page; `secure`: cookies only over https. */
  constructor(o: { basicAuth?: readonly string[]; signIn?: boolean; secure?: boolean }) {
    this.#users = (o.basicAuth ?? []).map(digest);
    this.#secure = o.secure === true;
    if (this.#users.length === 0 && !o.signIn) this.#anonymous = this.#create('anonymous', Infinity);
  }

  get basic(): boolean {
    return this.#users.length > 0;
  }

  /** No basic auth and no sign-in: anyone who can load the page may use it. */
  get open(): boolean {
    return this.#anonymous !== undefined;
  }

  /** The user a request authenticates as, if any. */
  user(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Basic ') && this.#users.length > 0) {
      const given = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const hash = digest(given);
      if (this.#users.some((u) => timingSafeEqual(u, hash))) return given.slice(0, given.indexOf(':'));
      return undefined;
    }
    const token = cookie(req, SESSION_COOKIE);
    const session = token === undefined ? undefined : this.#sessions.get(token);
    if (!session) return undefined;
    if (session.expires < Date.now()) {
      this.#sessions.delete(token!);
      return undefined;
    }
    return session.user;
  }

  /** The Set-Cookie value giving the page's browser the anonymous session (open servers only). */
  pageCookie(): string | undefined {
    return this.#anonymous === undefined ? undefined : this.#cookie(this.#anonymous, undefined);
  }

  /** Starts a session for a signed-in user: the Set-Cookie value. */
  signIn(user: string, ttl: number): string {
    return this.#cookie(this.#create(user, ttl), ttl);
  }

  signOut(req: IncomingMessage): string {
    const token = cookie(req, SESSION_COOKIE);
    if (token !== undefined && token !== this.#anonymous) this.#sessions.delete(token);
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
  }

  #create(user: string, ttl: number): string {
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(token, { user, expires: Date.now() + ttl });
    return token;
  }

  #cookie(token: string, ttl: number | undefined): string {
    return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${this.#secure ? '; Secure' : ''}${ttl === undefined ? '' : `; Max-Age=${Math.floor(ttl / 1000)}`}`;
  }
}
