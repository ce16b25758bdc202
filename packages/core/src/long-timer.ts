/**
 * Every duration in nori goes through here. Node fires a timer whose delay is over 2^31-1 ms
 * (24.8 days) after 1 ms, with only a warning: a 25-day time limit, ETA or `get({ timeout })`
 * would fire at once. A long wait is a chain of shorter timers, re-armed until the deadline.
 */

/** The longest delay Node's timers honour. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timeout: `clear()` cancels it (idempotent); `unref()` lets the process exit while it waits. */
export interface LongTimeout {
  clear(): void;
  unref(): this;
  ref(): this;
}

/**
 * Calls `fn` once `ms` have passed, for any finite `ms` (a negative or NaN delay is 0, as Node's
 * own; `Infinity` never fires).
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  const deadline = Date.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms));
  let timer: NodeJS.Timeout | undefined;
  let referenced = true;
  let cleared = false;
  const arm = (): void => {
    const left = deadline - Date.now();
    if (left <= MAX_TIMER_MS) {
      timer = setTimeout(fire, Math.max(0, left));
    } else {
      // Re-armed when it fires: the chain ends only at the deadline.
      timer = setTimeout(arm, MAX_TIMER_MS);
    }
    if (!referenced) timer.unref();
  };
  const fire = (): void => {
    if (!cleared) {
      cleared = true;
      fn();
    }
  };
  if (ms !== Infinity) arm();
  const handle: LongTimeout = {
    clear() {
      cleared = true;
      clearTimeout(timer);
    },
    unref() {
      referenced = false;
      timer?.unref();
      return handle;
    },
    ref() {
      referenced = true;
      timer?.ref();
      return handle;
    },
  };
  return handle;
}

/** Waits `ms` (any length); rejects with `signal.reason` as soon as `signal` aborts, clearing its timer. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.clear();
      reject(signal?.reason);
    };
    const timer = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
