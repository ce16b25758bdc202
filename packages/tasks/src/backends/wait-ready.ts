/**
 * The wait every backend's `waitFor` shares: start watching for updates first, then read the
 * current state, so a result stored between the two is never missed; then resolve on the first
 * ready state, or reject on timeout, abort, or the backend closing (a wait never outlives its
 * backend silently). Watching stops on every way out.
 */
import { setMaxListeners } from 'node:events';
import { ConnectionClosedError, setLongTimeout, TimeoutError, type LongTimeout } from '@nori/core';
import type { StoredResult, WaitOptions } from './backend.js';
import { isReady } from '../protocol/task-meta.js';

export type { WaitOptions };

/**
 * Starts delivering updates for one task to `onUpdate`, each as a function that reads it (a
 * result that cannot be read rejects the wait); resolves once watching is in place, with the
 * stop function.
 */
export type Watch = (onUpdate: (read: () => StoredResult) => void) => Promise<() => void>;

/**
 * A backend's `close()` signal: every wait listens on it, so it takes any number of listeners
 * (awaiting more than ten results at once printed a MaxListenersExceededWarning).
 */
export function closingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

const closedError = (taskId: string): ConnectionClosedError => new ConnectionClosedError(`the result backend was closed while waiting for task ${taskId}`);

/** `closed` is the backend's: aborted by its close(). */
export function waitForReady(
  taskId: string,
  options: WaitOptions,
  closed: AbortSignal,
  watch: Watch,
  fetch: () => Promise<StoredResult>,
): Promise<StoredResult> {
  const { timeout, signal, onState } = options;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (closed.aborted) return Promise.reject(closedError(taskId));
  return new Promise<StoredResult>((resolve, reject) => {
    let settled = false;
    let unwatch: (() => void) | undefined;
    let timer: LongTimeout | undefined;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      timer?.clear();
      signal?.removeEventListener('abort', onAbort);
      closed.removeEventListener('abort', onClose);
      unwatch?.();
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason as Error));
    const onClose = (): void => finish(() => reject(closedError(taskId)));
    signal?.addEventListener('abort', onAbort, { once: true });
    closed.addEventListener('abort', onClose, { once: true });
    if (timeout !== undefined) {
      timer = setLongTimeout(() => finish(() => reject(new TimeoutError(`task ${taskId} was not ready within ${timeout} ms`))), timeout);
    }
    const onResult = (result: StoredResult): void => {
      onState?.(result);
      if (isReady(result)) finish(() => resolve(result));
    };
    const onError = (error: Error): void => finish(() => reject(error));
    let updated = false;
    const onUpdate = (read: () => StoredResult): void => {
      try {
        updated = true;
        onResult(read());
      } catch (error) {
        onError(error as Error);
      }
    };
    watch(onUpdate)
      .then(async (stop) => {
        if (settled) return stop();
        unwatch = stop;
        const current = await fetch();
        // An update that came while reading is newer than what was read, unless that is final.
        if (!updated || isReady(current)) onResult(current);
      })
      .catch(onError);
  });
}
