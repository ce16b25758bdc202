/**
 * One consumer's fetch loop over a virtual transport: claim while the prefetch budget has room,
 * otherwise wait on the store (which blocks; no spinning), round-robin across the queues.
 */
import type { ConsumeOptions, Delivery, Subscription } from '../transport.js';

/** What the loop needs from its transport. */
export interface SubscriptionHost {
  /** Claim up to `max` deliveries from `queue`; `onSettled` runs once per delivery when settled. */
  claim(queue: string, max: number, options: ConsumeOptions, onSettled: () => void): Promise<Delivery[]>;
  wait(queues: readonly string[], signal: AbortSignal): Promise<void>;
  /** Subscribe queues bound to broadcast exchanges; returns the unsubscribe function. */
  subscribeBroadcasts(queues: readonly string[], options: ConsumeOptions, deliver: (d: Delivery) => void): Promise<() => Promise<void>>;
  reportError(error: unknown): void;
}

/** Claim size when prefetch is unlimited. */
const UNLIMITED_BATCH = 100;
/** Pause after a failed claim/wait before trying again (the connection may be coming back). */
const ERROR_PAUSE_MS = 500;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class VirtualSubscription implements Subscription {
  readonly consumerTag: string;
  #active = true;
  #unsettled = 0;
  #slotFreed: (() => void) | undefined;
  readonly #abort = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly host: SubscriptionHost,
    readonly queues: readonly string[],
    private readonly options: ConsumeOptions,
    private readonly onDelivery: (delivery: Delivery) => void,
  ) {
    this.consumerTag = options.consumerTag;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.host.subscribeBroadcasts(this.queues, this.options, this.onDelivery);
    this.#loop = this.#run();
  }

  async cancel(): Promise<void> {
    if (!this.#active) return this.#loop;
    this.#active = false;
    this.#abort.abort();
    this.#slotFreed?.();
    await this.#unsubscribe?.();
    await this.#loop;
  }

  #settled = (): void => {
    this.#unsettled--;
    const wake = this.#slotFreed;
    this.#slotFreed = undefined;
    wake?.();
  };

  async #run(): Promise<void> {
    const { queues, options, host } = this;
    let next = 0;
    // The one queue gave fewer than asked: it was empty then, so wait rather than claim again (one
    // store call a message fewer at low rates). With several queues, the others are claimed first.
    let drained = false;
    while (this.#active) {
      const free = options.prefetch === 0 ? UNLIMITED_BATCH : options.prefetch - this.#unsettled;
      if (free <= 0) {
        // Messages may have come while every slot was taken: claim first.
        drained = false;
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        // Claim after the settles of this tick went out (their batch flushes on setImmediate):
        // on one connection a claim written first delays the acks that handlers wait on.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      let deliveries: Delivery[] = [];
      try {
        for (let i = 0; i < queues.length && deliveries.length === 0 && this.#active && !drained; i++) {
          const index = (next + i) % queues.length;
          deliveries = await host.claim(queues[index] as string, free, options, this.#settled);
          if (deliveries.length > 0) next = (index + 1) % queues.length;
        }
        if (deliveries.length === 0) {
          drained = false;
          if (this.#active) await host.wait(queues, this.#abort.signal);
          continue;
        }
      } catch (error) {
        if (!this.#active) break;
        host.reportError(error);
        await pause(ERROR_PAUSE_MS, this.#abort.signal);
        continue;
      }
      drained = queues.length === 1 && deliveries.length < free;
      this.#unsettled += deliveries.length;
      if (!this.#active) {
        // Cancelled while claiming: these were never handed over, so they go back first in line.
        for (const d of deliveries.reverse()) await d.release().catch((e: unknown) => host.reportError(e));
        break;
      }
      for (const d of deliveries) this.onDelivery(d);
    }
  }
}
