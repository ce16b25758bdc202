/**
 * Polling that backs off while idle: the wait doubles from `minMs` up to `maxMs` while nothing is
 * found, and drops back to `minMs` as soon as this process publishes or claims something. An idle
 * consumer costs about one claim query per `maxMs`.
 */
export class IdlePoll {
  #delay: number;
  readonly #sleepers = new Set<() => void>();

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.#delay = minMs;
  }

  /** Activity seen: wake sleepers and poll fast again. */
  wake(): void {
    this.#delay = this.minMs;
    for (const wake of [...this.#sleepers]) wake();
  }

  sleep(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const ms = Math.min(this.#delay, timeoutMs);
    this.#delay = Math.min(this.maxMs, this.#delay * 2);
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#sleepers.add(done);
    });
  }
}
