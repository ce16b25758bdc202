/**
 * The one backoff wait of every retry and reconnect loop: an abort ends it at once and clears its
 * timer, so a `close()` in the middle of a backoff returns at once and leaves no handle behind.
 */
import { setTimeout as wait } from 'node:timers/promises';

/** Wait `ms`; rejects with `signal.reason` as soon as `signal` aborts. */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await wait(ms, undefined, signal && { signal });
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
}
