/**
 * The lease keeper's thread (see lease-keeper.ts): for each attached transport, the claims it holds
 * and a store connection (shared by transports with the same URL and options); a timer renews a
 * transport's claims every renewal interval, whether its loop turns or not, until its heartbeat is
 * `maxBlockedMs` old: then the loop is taken for stuck and that transport's leases are given up.
 */
import { parentPort } from 'node:worker_threads';
import { silentLogger } from '../../logger.js';
import type { Store, StoreFactory } from '../store.js';
import { BEAT, byQueue, GAVE_UP, type KeeperCommand, type KeeperReport, type KeeperStore } from './lease-keeper.js';

const port = parentPort as NonNullable<typeof parentPort>;

interface Attached {
  readonly id: number;
  readonly with: KeeperStore;
  readonly clock: BigInt64Array;
  /** token → queue of every claim the transport holds. */
  readonly held: Map<string, string>;
  readonly store: Promise<Store>;
  readonly storeKey: string;
  renewing: boolean;
  lastRenew: number;
  /** The last failure reported: a store that stays down is reported once, not every tick. */
  lastError: string;
}

const attached = new Map<number, Attached>();
/** Connections by URL and options, with how many transports use each. */
const stores = new Map<string, { store: Promise<Store>; users: number }>();
let timer: NodeJS.Timeout | undefined;

function report(message: KeeperReport): void {
  port.postMessage(message);
}

async function open(data: KeeperStore): Promise<Store> {
  const factory = (await import(data.store.url))[data.store.exportName] as StoreFactory;
  const store = factory(data.url, { ...data.options, logger: silentLogger });
  await store.connect();
  return store;
}

function attach(id: number, data: KeeperStore, clock: SharedArrayBuffer): void {
  const storeKey = JSON.stringify([data.store, data.url.href, data.options]);
  let entry = stores.get(storeKey);
  if (!entry) stores.set(storeKey, (entry = { store: open(data), users: 0 }));
  entry.users++;
  const a: Attached = {
    id,
    with: data,
    clock: new BigInt64Array(clock),
    held: new Map(),
    store: entry.store,
    storeKey,
    renewing: false,
    lastRenew: 0,
    lastError: '',
  };
  attached.set(id, a);
  a.store.then(
    () => report({ id, ready: true }),
    (error: unknown) => report({ id, error: `its store did not connect: ${(error as Error).message}` }),
  );
  schedule();
}

function detach(id: number): void {
  const a = attached.get(id);
  if (!a) return;
  attached.delete(id);
  const entry = stores.get(a.storeKey);
  if (entry && --entry.users === 0) {
    stores.delete(a.storeKey);
    void entry.store.then((s) => s.close()).catch(() => undefined);
  }
  schedule();
}

/** One timer at half the shortest renewal interval: each transport's claims are renewed about every interval. */
function schedule(): void {
  clearInterval(timer);
  timer = undefined;
  if (attached.size === 0) return;
  const tick = Math.max(10, Math.min(...[...attached.values()].map((a) => a.with.intervalMs)) / 2);
  timer = setInterval(() => {
    for (const a of attached.values()) void renew(a);
  }, tick);
}

async function renew(a: Attached): Promise<void> {
  const now = Date.now();
  if (a.renewing || a.held.size === 0 || now - a.lastRenew < a.with.intervalMs) return;
  const blockedMs = now - Number(Atomics.load(a.clock, BEAT));
  if (blockedMs >= a.with.maxBlockedMs) {
    Atomics.store(a.clock, GAVE_UP, BigInt(now));
    report({ id: a.id, gaveUp: a.held.size, blockedMs });
    a.held.clear();
    return;
  }
  a.renewing = true;
  a.lastRenew = now;
  try {
    const store = await a.store;
    for (const [queue, tokens] of byQueue(a.held)) await store.renew(queue, tokens, a.with.leaseMs);
    a.lastError = '';
  } catch (error) {
    const message = `renewing leases failed: ${(error as Error).message}`;
    if (message !== a.lastError) report({ id: a.id, error: message });
    a.lastError = message;
  } finally {
    a.renewing = false;
  }
}

port.on('message', (command: KeeperCommand) => {
  if ('attach' in command) return attach(command.attach, command.with, command.clock);
  if ('detach' in command) return detach(command.detach);
  const a = attached.get(command.id);
  if (!a) return;
  for (const token of command.drop) a.held.delete(token);
  if (command.hold) for (const token of command.hold.tokens) a.held.set(token, command.hold.queue);
});
