/**
 * What the flower tests share: starting `nori flower` (the real bin) with the API open to the
 * test (it calls without a session), reading its JSON API, and waiting for a condition.
 */
import { start } from './bin.js';

/** Starts `nori -A app flower --port 0 ...`; resolves to its base URL. */
export async function startFlower(app: string, env: Record<string, string>, extra: string[] = []): Promise<string> {
  const f = start(['-A', app, 'flower', '--port', '0', '--unauthenticated-api', ...extra], env);
  return (await f.waitFor(/nori flower on (http:\/\/\S+)/))[1]!;
}

/** GET (or `init`) a JSON route; anything but 200 throws with the status and body. */
export async function apiAt<T = Record<string, unknown>>(base: string, path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(base + path, init);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Polls `fn` until it returns something other than undefined (errors count as not yet). */
export async function until<T>(fn: () => Promise<T | undefined>, timeout = 15_000, every = 100): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}
