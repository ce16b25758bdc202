/**
 * The failover dialer every transport shares: each URL of a failover list is tried once, in turn,
 * starting after the one that served last (kombu's round-robin); the first that connects wins.
 * When all fail, one error names each masked URL once and every cause. If every URL refused for
 * the same reason retrying cannot fix (bad credentials), it is of that class, so
 * `ensureConnection` and a publish's `retry` stop at once; otherwise it is a retryable
 * `ConnectionError`.
 */
import { ConnectionError, NoriError } from '../errors.js';
import type { BrokerUrl } from '../url.js';

export interface Dialed<C> {
  readonly client: C;
  readonly url: BrokerUrl;
  /** Where the next dial starts: the URL after this one. */
  readonly next: number;
}

/** `open` connects to one URL (and cleans up after itself when it fails). */
export async function dial<C>(urls: readonly BrokerUrl[], start: number, open: (url: BrokerUrl, index: number) => Promise<C>): Promise<Dialed<C>> {
  const errors: Error[] = [];
  for (let i = 0; i < urls.length; i++) {
    const index = (start + i) % urls.length;
    const url = urls[index] as BrokerUrl;
    try {
      return { client: await open(url, index), url, next: (index + 1) % urls.length };
    } catch (error) {
      errors.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  const [first] = errors;
  const message = `cannot connect to ${urls.map((u) => u.masked).join(' or ')}: ${errors.map((e) => e.message).join('; ')}`;
  if (first instanceof NoriError && !(first instanceof ConnectionError) && errors.every((e) => e.constructor === first.constructor)) {
    const Refused = first.constructor as new (message: string, options: { cause: unknown }) => NoriError;
    throw new Refused(message, { cause: first });
  }
  throw new ConnectionError(message, { cause: first });
}
