/** What every view gets, and what it gives back: a function that stops its timers and listeners. */
import type { Config } from './api.js';
import type { Live } from './live.js';

export interface ViewContext {
  /** Where the view draws itself. */
  readonly root: HTMLElement;
  readonly live: Live;
  readonly config: Config;
  /** Shows another view (and records it in the history). */
  navigate(path: string): void;
  /** A line at the top saying what an action did, or why it failed. */
  notice(message: string, failed?: boolean): void;
}

export type View = (ctx: ViewContext, arg: string, query: URLSearchParams) => (() => void) | void;

/** Calls `fn` at most once per `ms`, the last call winning (live updates arrive in bursts). */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: number | undefined;
  const run = (): void => {
    if (timer !== undefined) return;
    timer = window.setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
  run.cancel = (): void => window.clearTimeout(timer);
  return run;
}
