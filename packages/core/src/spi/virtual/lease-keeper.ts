/**
 * Keeps leases alive while the event loop is blocked. Renewals from a timer of the loop stop when a
 * handler blocks it (CPU-bound work); another consumer would then take the message and run it a
 * second time, and everything this consumer had prefetched with it. So a worker thread
 * (lease-thread.ts) with store connections of its own is told which claims are held and renews
 * them, every renewal interval, whether the loop turns or not; the loop renews only while the
 * thread is not connected (or failed), and beats.
 *
 * One thread per process, shared by its transports (they share the one loop it watches): each
 * transport attaches with its store (the thread shares one store connection between transports
 * with the same URL and options) and a heartbeat of its own in shared memory.
 *
 * Bounded: a loop that stays blocked past `maxBlockedMs` is taken for stuck. The thread gives up its
 * leases (they lapse; the messages go to other consumers and count a lapse) and records when in
 * shared memory, so the loop, if it ever turns again, knows which of its claims are lost and must
 * not start them. A late renew or settle of a claim already settled or given up is harmless: every
 * store call takes the claim's fencing token.
 *
 * Cost while the loop turns: one `postMessage` per claimed batch; settled claims are forgotten in
 * the next batch or heartbeat, not one message each. A transport attaches with its first
 * subscription that takes leases, or its first claim held, so connections that only publish, or
 * consume with `noAck`, never start the thread. It connects in the background: until it has (a
 * fraction of a second, logged at debug), a blocked loop's leases last `leaseMs` from their last
 * renewal, as without it.
 */
import { Worker } from 'node:worker_threads';
import type { BrokerUrl } from '../../url.js';
import { builtModule } from '../built-module.js';
import type { StoreModule } from '../store.js';
import type { TransportOptions } from '../transport.js';

/** What a transport attaches with (structured-cloned: plain data only). */
export interface KeeperStore {
  readonly store: StoreModule;
  readonly url: BrokerUrl;
  readonly options: Omit<TransportOptions, 'logger'>;
  readonly leaseMs: number;
  /** How often the transport renews and beats: the thread steps in once a beat is this late. */
  readonly intervalMs: number;
  readonly maxBlockedMs: number;
}

/** Loop → thread. */
export type KeeperCommand =
  | { readonly attach: number; readonly with: KeeperStore; readonly clock: SharedArrayBuffer }
  | { readonly detach: number }
  | { readonly id: number; readonly hold?: { readonly queue: string; readonly tokens: readonly string[] }; readonly drop: readonly string[] };

/** Thread → loop. */
export type KeeperReport =
  | { readonly id: number; readonly ready: true }
  | { readonly id: number; readonly error: string }
  | { readonly id: number; readonly gaveUp: number; readonly blockedMs: number };

/** BigInt64 slots of a transport's clock: its last beat, and when the thread last gave its leases up (epoch ms). */
export const BEAT = 0;
export const GAVE_UP = 1;

/** Claims grouped by queue, for one renew call per queue. */
export function byQueue(held: Iterable<readonly [token: string, queue: string]>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [token, queue] of held) {
    const tokens = groups.get(queue);
    if (tokens) tokens.push(token);
    else groups.set(queue, [token]);
  }
  return groups;
}

/** The thread's entry, beside this module's built twin. */
const THREAD = new URL('./lease-thread.js', builtModule(import.meta.url));

export interface LeaseKeeperEvents {
  /** The thread's store connected: from now on it renews, and leases outlive a blocked loop. */
  ready(): void;
  /** The thread cannot keep leases (it failed to start or its store failed): leases depend on the loop alone. */
  failed(why: string): void;
  /** The thread gave up the leases of a loop blocked past `maxBlockedMs` (reported once the loop turns). */
  gaveUp(claims: number, blockedMs: number): void;
}

/** The process's keeper thread, while a transport is attached. */
let shared: { worker: Worker; keepers: Map<number, LeaseKeeper> } | undefined;
let nextId = 1;

function thread(): NonNullable<typeof shared> {
  if (shared) return shared;
  // No flags of the parent's: `--conditions=nori-src` (the tests) would resolve @nori/* to sources a thread cannot load.
  const worker = new Worker(THREAD, { execArgv: [], stdout: false, stderr: false });
  // The thread must not keep the process alive: closing the transports ends it.
  worker.unref();
  const current = { worker, keepers: new Map<number, LeaseKeeper>() };
  const lost = (why: string): void => {
    if (shared !== current) return;
    shared = undefined;
    void worker.terminate();
    for (const keeper of current.keepers.values()) keeper.fail(why);
  };
  worker.on('message', (report: KeeperReport) => current.keepers.get(report.id)?.report(report));
  worker.on('error', (error) => lost(error.message));
  worker.on('exit', (code) => lost(`its thread exited (code ${code})`));
  shared = current;
  return current;
}

/** A transport's part of the process's keeper thread. */
export class LeaseKeeper {
  readonly #id = nextId++;
  readonly #clock = new BigInt64Array(new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT));
  #attached = false;
  /** The thread renews this transport's leases (attached and connected). */
  #renewing = false;
  /** No thread (a process-local store), or it failed: renewals come from the loop alone. */
  #off = false;
  #drops: string[] = [];

  constructor(
    private readonly store: () => KeeperStore | undefined,
    private readonly events: LeaseKeeperEvents,
  ) {
    this.beat();
  }

  /** The loop turns: called by the transport's renew timer. Also forgets settled claims in the thread. */
  beat(): void {
    Atomics.store(this.#clock, BEAT, BigInt(Date.now()));
    if (this.#attached && this.#drops.length > 0) this.#post({ id: this.#id, drop: this.#take() });
  }

  /** Whether the thread renews this transport's leases; while it does not, the loop does. */
  get renews(): boolean {
    return this.#renewing;
  }

  /** When the thread last gave up this transport's leases (epoch ms, 0: never): claims made before are lost. */
  get gaveUpAt(): number {
    return Number(Atomics.load(this.#clock, GAVE_UP));
  }

  /** Attach to the process's thread, once (`ready` tells when its store is connected). */
  start(): void {
    if (this.#off || this.#attached) return;
    const store = this.store();
    if (!store) {
      this.#off = true;
      return;
    }
    try {
      const current = thread();
      current.keepers.set(this.#id, this);
      this.#attached = true;
      this.#post({
        attach: this.#id,
        with: { ...store, store: { ...store.store, url: builtModule(store.store.url) } },
        clock: this.#clock.buffer as SharedArrayBuffer,
      });
    } catch (error) {
      this.fail(`cannot start its thread: ${(error as Error).message}`);
    }
  }

  /** Claims now in flight: renewed by the thread whenever the loop is late. Synchronous, so a handler that blocks right away is covered. */
  hold(queue: string, tokens: readonly string[]): void {
    this.start();
    if (this.#attached) this.#post({ id: this.#id, hold: { queue, tokens }, drop: this.#take() });
  }

  /** A claim settled: the thread stops renewing it with the next batch or beat. */
  drop(token: string): void {
    if (this.#attached) this.#drops.push(token);
  }

  /** Detach; the thread ends with the last transport. */
  async close(): Promise<void> {
    this.#off = true;
    await this.#detach();
  }

  /** From the thread. */
  report(report: KeeperReport): void {
    if ('ready' in report) {
      this.#renewing = this.#attached;
      this.events.ready();
    } else if ('error' in report) this.fail(report.error);
    else this.events.gaveUp(report.gaveUp, report.blockedMs);
  }

  /** The thread or this transport's store failed: leases depend on the loop alone from now on. */
  fail(why: string): void {
    this.#off = true;
    void this.#detach();
    this.events.failed(why);
  }

  async #detach(): Promise<void> {
    this.#renewing = false;
    this.#drops = [];
    if (!this.#attached) return;
    this.#attached = false;
    const current = shared;
    if (!current?.keepers.delete(this.#id)) return;
    if (current.keepers.size > 0) {
      this.#post({ detach: this.#id }, current);
      return;
    }
    shared = undefined;
    await current.worker.terminate();
  }

  #take(): string[] {
    const drops = this.#drops;
    this.#drops = [];
    return drops;
  }

  #post(command: KeeperCommand, current = shared): void {
    current?.worker.postMessage(command);
  }
}
