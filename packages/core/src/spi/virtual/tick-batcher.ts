/**
 * Work issued in the same tick goes to the store as one call per key: a burst of acks, or of
 * publishes to one queue, costs one round trip and one command instead of one per message.
 * The flush may fail items on their own (a full queue refuses some publishes of a batch): it
 * returns an error per item, undefined where the item went through.
 */
interface Pending<T> {
  items: T[];
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

export class TickBatcher<T> {
  #pending = new Map<string, Pending<T>>();
  #scheduled = false;

  constructor(private readonly flushKey: (key: string, items: T[]) => Promise<ReadonlyArray<Error | undefined> | void>) {}

  add(key: string, item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.#pending.get(key);
      if (!p) this.#pending.set(key, (p = { items: [], waiters: [] }));
      p.items.push(item);
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
    for (const [key, { items, waiters }] of batch) {
      this.flushKey(key, items).then(
        (errors) =>
          waiters.forEach((w, i) => {
            const error = errors?.[i];
            if (error) w.reject(error);
            else w.resolve();
          }),
        (error: unknown) => waiters.forEach((w) => w.reject(error)),
      );
    }
  }
}
