/**
 * The one error boundary between the virtual transport and its store: every store call goes
 * through here, and a failure leaves it as one of nori's classes (the store's `classifyError`
 * decides which), never as a raw client error. nori's own errors pass through unchanged.
 */
import { NoriError } from '../../errors.js';
import type { Envelope } from '../envelope.js';
import type { FanoutChannel, PutOptions, PutReport, RestorePosition, Store, StoredBinding } from '../store.js';
import type { ExchangeSpec, QueueSpec } from '../../topology.js';

const NOTHING: PutReport = { refused: [], dropped: [] };

export class StoreBoundary implements Store {
  readonly capabilities: Store['capabilities'];
  readonly fanout?: FanoutChannel;

  constructor(readonly store: Store) {
    this.capabilities = store.capabilities;
    const fanout = store.fanout;
    if (fanout) {
      this.fanout = {
        publish: (exchange, routingKey, envelope) => this.#guard('publish', () => fanout.publish(exchange, routingKey, envelope)),
        subscribe: (exchange, onEnvelope) => this.#guard('subscribe', () => fanout.subscribe(exchange, onEnvelope)),
      };
    }
  }

  classifyError(error: unknown, operation: string): Error {
    return error instanceof NoriError ? error : this.store.classifyError(error, operation);
  }

  #guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = call();
    } catch (error) {
      return Promise.reject(this.classifyError(error, operation));
    }
    return promise.catch((error: unknown) => {
      throw this.classifyError(error, operation);
    });
  }

  connect(): Promise<void> {
    return this.#guard('connect', () => this.store.connect());
  }
  close(): Promise<void> {
    return this.#guard('close', () => this.store.close());
  }
  declareExchange(exchange: ExchangeSpec): Promise<void> {
    return this.#guard('declare exchange', () => this.store.declareExchange(exchange));
  }
  getExchange(name: string): Promise<ExchangeSpec | undefined> {
    return this.#guard('read exchange', () => this.store.getExchange(name));
  }
  deleteExchange(name: string): Promise<void> {
    return this.#guard('delete exchange', () => this.store.deleteExchange(name));
  }
  declareQueue(queue: QueueSpec): Promise<void> {
    return this.#guard('declare queue', () => this.store.declareQueue(queue));
  }
  queueExists(name: string): Promise<boolean> {
    return this.#guard('check queue', () => this.store.queueExists(name));
  }
  deleteQueue(name: string): Promise<void> {
    return this.#guard('delete queue', () => this.store.deleteQueue(name));
  }
  bind(exchange: string, binding: StoredBinding): Promise<void> {
    return this.#guard('bind', () => this.store.bind(exchange, binding));
  }
  unbind(exchange: string, binding: StoredBinding): Promise<void> {
    return this.#guard('unbind', () => this.store.unbind(exchange, binding));
  }
  bindings(exchange: string): Promise<StoredBinding[]> {
    return this.#guard('read bindings', () => this.store.bindings(exchange));
  }
  put(queue: string, envelope: Envelope, options: PutOptions): Promise<PutReport | void> {
    return this.#guard('publish', () => this.store.put(queue, envelope, options));
  }
  /** Always present, and always reports: a store without `putMany` gets one put per item. */
  putMany(queue: string, items: ReadonlyArray<{ envelope: Envelope; options: PutOptions }>): Promise<PutReport> {
    const store = this.store;
    return this.#guard('publish', async () => {
      if (store.putMany) return (await store.putMany(queue, items)) ?? NOTHING;
      const reports = await Promise.all(items.map((i) => store.put(queue, i.envelope, i.options)));
      return {
        refused: reports.flatMap((r, i) => (r && r.refused.length > 0 ? [i] : [])),
        dropped: reports.flatMap((r) => r?.dropped ?? []),
      };
    });
  }
  claim(queue: string, max: number, leaseMs: number): ReturnType<Store['claim']> {
    return this.#guard('claim', () => this.store.claim(queue, max, leaseMs));
  }
  wait(queues: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.#guard('wait', () => this.store.wait(queues, timeoutMs, signal));
  }
  ack(queue: string, tokens: readonly string[]): Promise<number> {
    return this.#guard('ack', () => this.store.ack(queue, tokens));
  }
  renew(queue: string, tokens: readonly string[], leaseMs: number): Promise<void> {
    return this.#guard('renew', () => this.store.renew(queue, tokens, leaseMs));
  }
  restore(queue: string, tokens: readonly string[], position: RestorePosition): Promise<number> {
    return this.#guard('restore', () => this.store.restore(queue, tokens, position));
  }
  restoreLapsed(): Promise<number> {
    return this.#guard('restore lapsed', () => this.store.restoreLapsed());
  }
  /** 0 where the store cannot. */
  forgetExpired(): Promise<number> {
    return this.#guard('forget expired queues', () => this.store.forgetExpired?.() ?? Promise.resolve(0));
  }
  purge(queue: string): Promise<number> {
    return this.#guard('purge', () => this.store.purge(queue));
  }
  /** 0 where the store cannot. */
  promoteDelayed(queue: string): Promise<number> {
    return this.#guard('promote delayed', () => this.store.promoteDelayed?.(queue) ?? Promise.resolve(0));
  }
  size(queue: string): Promise<number> {
    return this.#guard('size', () => this.store.size(queue));
  }
}
