/**
 * The worker's consumers (Celery's consumer): one for its queues and one per queue added later
 * (add_consumer), all on the worker's connection, in core's `settle: 'manual'` mode: the worker
 * settles every message itself (admission, tracer), the consumer never does on its behalf. Every
 * reserved message reaches admission at once (handler concurrency = prefetch): slots, rate limits
 * and ETAs are scheduled there.
 */
import type { Connection, Consumer, Message, Queue } from '@nori/core';
import type { Admission } from './admission/admission.js';
import { settle } from './settle.js';

export interface ConsumerSettings {
  prefetch: number;
  accept: readonly string[];
  /** How long stopping a consumer waits for its running handlers, ms. */
  stopTimeout: number;
  /** Lease lapses a message survives; past them admission ends it (`Admission.lapsed`). */
  maxLapses: number;
}

export class Consumers {
  readonly #connection: Connection;
  readonly #settings: ConsumerSettings;
  readonly #admission: Admission;
  readonly #report: (error: Error) => void;
  #queues: readonly Queue[];
  #main: Consumer | undefined;
  /** Consumers of queues added by `add`, by queue name. */
  readonly #added = new Map<string, Consumer>();
  /** Consumers being stopped after `cancel` (their running tasks finish first). */
  readonly #draining = new Set<Promise<void>>();
  /** Every consumer not stopped yet: a cold stop abandons their running handlers. */
  readonly #live = new Set<Consumer>();

  constructor(connection: Connection, queues: readonly Queue[], settings: ConsumerSettings, admission: Admission, report: (error: Error) => void) {
    this.#connection = connection;
    this.#queues = queues;
    this.#settings = settings;
    this.#admission = admission;
    this.#report = report;
  }

  get queues(): readonly Queue[] {
    return this.#queues;
  }

  get started(): boolean {
    return this.#main !== undefined;
  }

  async start(): Promise<void> {
    this.#main = await this.#consume(this.#queues);
  }

  /** Start consuming one more queue, with a consumer of its own. */
  async add(queue: Queue): Promise<void> {
    if (!this.#main || this.#queues.some((q) => q.name === queue.name)) return;
    this.#queues = [...this.#queues, queue];
    this.#added.set(queue.name, await this.#consume([queue]));
  }

  /** Stop consuming a queue; its running tasks finish, its reserved messages go back. */
  async cancel(name: string): Promise<void> {
    if (!this.#main || !this.#queues.some((q) => q.name === name)) return;
    this.#queues = this.#queues.filter((q) => q.name !== name);
    let old = this.#added.get(name);
    if (old) {
      this.#added.delete(name);
    } else {
      old = this.#main;
      const rest = this.#queues.filter((q) => !this.#added.has(q.name));
      this.#main = rest.length > 0 ? await this.#consume(rest) : undefined;
    }
    const draining = this.#stop(old);
    this.#draining.add(draining);
    void draining.finally(() => this.#draining.delete(draining));
  }

  /** Stops every consumer: fetching ends, reserved messages go back; resolves once running handlers are done. Undefined when none ran. */
  stop(): Promise<void> | undefined {
    const consumers = [this.#main, ...this.#added.values()].filter((c): c is Consumer => c !== undefined);
    this.#added.clear();
    this.#main = undefined;
    if (consumers.length === 0 && this.#draining.size === 0) return undefined;
    return Promise.all([...consumers.map((c) => this.#stop(c)), ...this.#draining]).then(() => undefined);
  }

  /** Cold stop: no consumer waits for its running handlers any more (their messages were given back by the caller). */
  abandon(): void {
    for (const consumer of this.#live) consumer.abandon();
  }

  #stop(consumer: Consumer): Promise<void> {
    return consumer.stop().finally(() => this.#live.delete(consumer));
  }

  async #consume(queues: readonly Queue[]): Promise<Consumer> {
    const { prefetch, accept, stopTimeout, maxLapses } = this.#settings;
    const consumer = this.#connection.consumer(
      queues,
      {
        prefetch,
        concurrency: prefetch === 0 ? Number.MAX_SAFE_INTEGER : prefetch,
        accept,
        stopTimeout,
        settle: 'manual',
        // Traced as task runs (events/tracing.ts), not as messages.
        trace: false,
        onDecodeError: (message, error) => this.#admission.refuse(message, error),
        maxLapses,
        onRedeliveryLimit: (message, error) => this.#admission.lapsed(message, error, maxLapses),
      },
      (message) => this.#handle(message),
    );
    consumer.on('error', (error) => this.#report(error));
    await consumer.start();
    this.#live.add(consumer);
    return consumer;
  }

  /**
   * The consumer's handler: resolves when admission is done with the message. A cold stop does not
   * wait for it (`Consumer.abandon`), so nothing is kept per message to end it early.
   */
  async #handle(message: Message): Promise<void> {
    try {
      await this.#admission.receive(message);
    } catch (error) {
      // Admission never rejects; should it, the message is rejected (dead-lettered where the
      // queue has a dead-letter exchange): given back, it could fail the same way for ever.
      this.#report(error as Error);
      await settle(message, 'reject', this.#report);
    }
  }
}
