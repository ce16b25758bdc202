/**
 * Acks issued in the same tick go to the store as one call per queue: a consumer acking a burst
 * of messages costs one round trip, not one per message.
 */
interface Pending {
  tags: string[];
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

export class AckBatcher {
  #pending = new Map<string, Pending>();
  #scheduled = false;

  constructor(private readonly flushQueue: (queue: string, tags: readonly string[]) => Promise<void>) {}

  ack(queue: string, tag: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.#pending.get(queue);
      if (!p) this.#pending.set(queue, (p = { tags: [], waiters: [] }));
      p.tags.push(tag);
      p.waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = new Map();
    this.#scheduled = false;
    for (const [queue, { tags, waiters }] of batch) {
      this.flushQueue(queue, tags).then(
        () => waiters.forEach((w) => w.resolve()),
        (error: unknown) => waiters.forEach((w) => w.reject(error)),
      );
    }
  }
}
