/**
 * Celery's Lamport clock (kombu.clocks.LamportClock): every event and control message carries
 * `clock`; receivers move theirs past what they see, so events from several nodes can be ordered.
 */
export class LamportClock {
  #value = 0;

  get value(): number {
    return this.#value;
  }

  /** The next value, for a message this node sends. */
  forward(): number {
    return ++this.#value;
  }

  /** Move past a value seen on a received message. */
  adjust(other: unknown): number {
    if (typeof other === 'number' && Number.isFinite(other)) this.#value = Math.max(this.#value, Math.trunc(other)) + 1;
    return this.#value;
  }
}
