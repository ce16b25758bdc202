/**
 * N permits, handed out in request order (a request may go first). When `signal` aborts, every waiter (and every later
 * request) is rejected with its reason: one abort listener for the semaphore, not one per waiter
 * (hundreds of prefetched messages wait here at once).
 */
export class Semaphore {
  #free: number;
  readonly #waiters: Array<{ resolve: () => void; reject: (reason: unknown) => void }> = [];

  constructor(
    permits: number,
    private readonly signal: AbortSignal,
  ) {
    this.#free = permits;
    signal.addEventListener(
      'abort',
      () => {
        for (const waiter of this.#waiters.splice(0)) waiter.reject(signal.reason);
      },
      { once: true },
    );
  }

  /** Takes a permit if one is free now (then no one waits): no promise for the common case. */
  tryAcquire(): boolean {
    if (this.signal.aborted || this.#free <= 0) return false;
    this.#free--;
    return true;
  }

  /** `first`: ahead of every waiter (a task whose ETA came), else behind them. */
  acquire(first = false): Promise<void> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      if (first) this.#waiters.unshift({ resolve, reject });
      else this.#waiters.push({ resolve, reject });
    });
  }

  /** More (n > 0) or fewer (n < 0) permits; fewer takes effect as running holders release. */
  resize(n: number): void {
    if (n < 0) this.#free += n;
    else for (let i = 0; i < n; i++) this.release();
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.resolve();
    else this.#free++;
  }
}
