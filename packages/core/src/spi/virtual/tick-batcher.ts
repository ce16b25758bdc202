/**
 * Work issued in the same tick goes to the store as one call per key: a burst of acks, or of
 * publishes to one queue, costs one round trip and one command instead of one per message.
 * The flush may fail items on their own (a full queue refuses some publishes of a batch): it
 * returns an error per item, undefined where the item went through. Where a flush succeeds or fails
 * as a whole (acks, result writes: `perItem: false`), the items of a batch share one promise, so
 * an item costs no promise of its own.
 */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Pending<T> {
  items: T[];
  /** One per item, or the batch's one when it is shared. */
  waiters: Waiter[];
  shared: Promise<void> | undefined;
}

export class TickBatcher<T> {
  #pending = new Map<string, Pending<T>>();
  #scheduled = false;

  constructor(
    private readonly flushKey: (key: string, items: T[]) => Promise<ReadonlyArray<Error | undefined> | void>,
    private readonly options: { readonly perItem: boolean } = { perItem: true },
  ) {}

  add(key: string, item: T): Promise<void> {
    let p = this.#pending.get(key);
    if (!p) {
      const waiters: Waiter[] = [];
      const shared = this.options.perItem ? undefined : new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      this.#pending.set(key, (p = { items: [], waiters, shared }));
    }
    p.items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    if (p.shared) return p.shared;
    const { waiters } = p;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = new Map();
    this.#scheduled = false;
    for (const [key, { items, waiters, shared }] of batch) {
      this.flushKey(key, items).then(
        (errors) => {
          if (shared) {
            const error = errors?.find((e) => e !== undefined);
            if (error) waiters[0]?.reject(error);
            else waiters[0]?.resolve();
            return;
          }
          waiters.forEach((w, i) => {
            const error = errors?.[i];
            if (error) w.reject(error);
            else w.resolve();
          });
        },
        (error: unknown) => waiters.forEach((w) => w.reject(error)),
      );
    }
  }
}
