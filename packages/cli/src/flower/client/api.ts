/**
 * Calls to the server: the page's session cookie goes with them (same origin), changes are POSTs
 * with their arguments in the query string (Flower's routes), and a refusal becomes an ApiError
 * carrying the server's own message.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, { credentials: 'same-origin', ...init });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Plain text (a 401 of basic auth): kept as it is.
  }
  if (!r.ok) {
    const message = typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error) : text || `HTTP ${r.status}`;
    throw new ApiError(r.status, message);
  }
  return body as T;
}

export function get<T>(path: string): Promise<T> {
  return call<T>(path);
}

/** A change: `params` go in the query string; the server answers `{message}` (Flower's). */
export async function post(path: string, params: Record<string, string | number> = {}): Promise<string> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  const r = await call<{ message?: unknown }>(query ? `${path}?${query}` : path, { method: 'POST' });
  return String(r.message ?? 'done');
}

export interface Config {
  readOnly: boolean;
  backend: boolean;
  /** Who is signed in (null: the open page, no user). */
  user: string | null;
  /** Users sign in with a provider and may sign out. */
  signIn: boolean;
}
