/**
 * A route of the monitoring server and what its handler gets. The server checks Host, origin,
 * authentication, read-only mode and the body's type before a handler runs; a handler returns the
 * JSON to answer with, or throws an HttpError.
 */
import type { App } from '@nori/tasks';
import { fromSeconds } from '@nori/tasks/protocol';
import { HttpError } from '../errors.js';
import type { Monitor } from './monitor.js';
import type { WorkerInfo } from './worker-info.js';

export interface RouteRequest {
  match: RegExpExecArray;
  /** The query string and, for a form body, its fields (Tornado's get_argument reads both). */
  params: URLSearchParams;
  body: string;
  /** Who asks (a basic-auth user, a signed-in address, 'anonymous' for the open page's session). */
  user: string | undefined;
}

export interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Sends or changes something: refused in read-only mode (Flower's 403). */
  change?: boolean;
  /** The body is JSON, so it must be declared JSON. */
  jsonBody?: boolean;
  run(r: RouteRequest): unknown;
}

export interface FlowerContext {
  readonly app: App;
  readonly monitor: Monitor;
  readonly workers: WorkerInfo;
  readonly readOnly: boolean;
  /** Users sign in (OpenID Connect) and may sign out. */
  readonly signIn: boolean;
}

/**
 * The `ok` text of a worker's reply to a control command (`{node: {ok: ...}}`), or a 403 whose
 * message `failed` words from the reason (the reply's `error`), as Flower's handlers answer.
 */
export function okOf(replies: Readonly<Record<string, unknown>> | null, worker: string | null, failed: (reason: string) => string): string {
  const reply = replies && (worker ? replies[worker] : Object.values(replies)[0]);
  const r = typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>) : {};
  if (typeof r['ok'] === 'string') return r['ok'];
  throw new HttpError(
    403,
    failed(reply === undefined || reply === null ? 'no reply from the worker' : typeof r['error'] === 'string' ? r['error'] : JSON.stringify(reply)),
  );
}

/** A required argument (Tornado's get_argument without a default: 400 when missing). */
export function required(p: URLSearchParams, name: string): string {
  const v = p.get(name);
  if (v === null) throw new HttpError(400, `Missing argument ${name}`);
  return v;
}

/** Flower's bool arguments: 'true', '1', 'yes', 'on'. */
export function truthy(v: string | null): boolean {
  return v !== null && /^(1|true|yes|on)$/i.test(v);
}

/** A whole-number argument (Flower's `type=int`), or `fallback` when absent. */
export function intParam(p: URLSearchParams, name: string, fallback?: number): number | undefined {
  const v = p.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new HttpError(400, `Invalid argument '${v}' of type 'int'`);
  return n;
}

/** A whole-number argument that must be there. */
export function requiredInt(p: URLSearchParams, name: string): number {
  const n = intParam(p, name);
  if (n === undefined) throw new HttpError(400, `Missing argument ${name}`);
  return n;
}

/** A seconds argument (Flower's `type=float`) as ms. */
export function secondsParam(p: URLSearchParams, name: string): number | undefined {
  const v = p.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new HttpError(400, `Invalid argument '${v}' of type 'float'`);
  return fromSeconds(n);
}
