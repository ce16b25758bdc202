/**
 * The wait every backend's `waitFor` shares: start watching for updates first, then read the
 * current state, so a result stored between the two is never missed; then resolve on the first
 * ready state, or reject on timeout or abort. Watching stops on every way out.
 */
import { TimeoutError } from '@nori/core';
import type { StoredResult } from '../backend.js';
import { isReady } from '../result/task-meta.js';

export interface WaitOptions {
  /** ms; undefined waits for ever. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Starts delivering updates for one task to `onUpdate`, each as a function that reads it (a
 * result that cannot be read rejects the wait); resolves once watching is in place, with the
 * stop function.
 */
export type Watch = (onUpdate: (read: () => StoredResult) => void) => Promise<() => void>;

export function waitForReady(taskId: string, options: WaitOptions, watch: Watch, fetch: () => Promise<StoredResult>): Promise<StoredResult> {
  const { timeout, signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<StoredResult>((resolve, reject) => {
    let settled = false;
    let unwatch: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unwatch?.();
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason as Error));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => finish(() => reject(new TimeoutError(`task ${taskId} was not ready within ${timeout} ms`))), timeout);
    }
    const onResult = (result: StoredResult): void => {
      if (isReady(result)) finish(() => resolve(result));
    };
    const onError = (error: Error): void => finish(() => reject(error));
    const onUpdate = (read: () => StoredResult): void => {
      try {
        onResult(read());
      } catch (error) {
        onError(error as Error);
      }
    };
    watch(onUpdate)
      .then(async (stop) => {
        if (settled) return stop();
        unwatch = stop;
        onResult(await fetch());
      })
      .catch(onError);
  });
}
