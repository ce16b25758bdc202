/**
 * The sign-in pages of the monitoring server (with OpenID Connect configured): `GET /login` sends
 * the browser to the provider and, when the provider sends it back, starts the user's session;
 * `POST /logout` ends it. The session cookie is SameSite=Strict, so the page that lands the browser
 * back here moves on with a refresh from this site, on which the browser sends the new cookie (a
 * redirect would still count as coming from the provider's site, and the cookie would stay home).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors.js';
import type { Auth } from './auth.js';
import { LOGIN_COOKIE, type OidcSignIn } from './oidc.js';

/** How long a sign-in lasts. */
export const SESSION_MS = 12 * 3_600_000;

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cookie(req: IncomingMessage, name: string): string | undefined {
  return (req.headers.cookie ?? '')
    .split(';')
    .map((p) => p.trim().split('='))
    .find(([k]) => k === name)?.[1];
}

type Send = (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>) => void;

/** Answers /login and /logout; false for any other request. */
export async function signInRoute(req: IncomingMessage, res: ServerResponse, url: URL, signIn: OidcSignIn, auth: Auth, send: Send): Promise<boolean> {
  if (req.method === 'POST' && url.pathname === '/logout') {
    send(res, 200, { message: 'Signed out' }, { 'Set-Cookie': auth.signOut(req) });
    return true;
  }
  if (req.method !== 'GET' || url.pathname !== '/login') return false;
  const text = { 'Content-Type': 'text/plain; charset=UTF-8' };
  if (!url.searchParams.has('code') && !url.searchParams.has('error')) {
    const { location, cookie: bind } = await signIn.start(url.searchParams.get('next'));
    send(res, 302, `Sign in at ${location}`, { ...text, Location: location, 'Set-Cookie': bind });
    return true;
  }
  try {
    const { email, next } = await signIn.finish(url.searchParams, cookie(req, LOGIN_COOKIE));
    const forget = `${LOGIN_COOKIE}=; Path=/login; HttpOnly; SameSite=Lax; Max-Age=0`;
    const html = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${escapeHtml(next)}"><title>nori flower</title><p>Signed in as ${escapeHtml(email)}: <a href="${escapeHtml(next)}">continue</a>.</p>`;
    res.setHeader('Set-Cookie', [auth.signIn(email, SESSION_MS), forget]);
    send(res, 200, html, { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Security-Policy': "default-src 'none'" });
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    send(res, error.status, `${error.message}\nSign in again at /login`, text);
  }
  return true;
}
