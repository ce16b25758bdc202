/**
 * A route of the monitoring server and what its handler gets. The server checks Host, origin,
 * authentication, read-only mode and the body's type before a handler runs; a handler returns the
 * JSON to answer with, or throws an HttpError.
 */
import type { App } from '@nori/tasks';
import { HttpError } from '../errors.js';
import type { Monitor } from './monitor.js';
import type { WorkerInfo } from './worker-info.js';

export interface RouteRequest {
  match: RegExpExecArray;
  /** The query string and, for a form body, its fields (Tornado's get_argument reads both). */
  params: URLSearchParams;
  body: string;
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

/** A seconds argument (Flower's `type=float`) as ms. */
export function secondsParam(p: URLSearchParams, name: string): number | undefined {
  const v = p.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new HttpError(400, `Invalid argument '${v}' of type 'float'`);
  return n * 1000;
}
