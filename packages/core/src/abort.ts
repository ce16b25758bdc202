/** How nori ends an operation whose `AbortSignal` fired: an `AbortError` (cause: the signal's reason), at once. */
import { AbortError } from './errors.js';

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('the operation was aborted', { cause: signal.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * `promise`, or an `AbortError` as soon as `signal` fires. What `promise` was doing goes on;
 * `onAbandoned` gets its value if it resolves after the abort, so the caller can undo it.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbandoned?: (value: T) => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.then(onAbandoned, () => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    const onAbort = (): void => {
      abandoned = true;
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) onAbandoned?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
