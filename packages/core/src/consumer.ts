/**
 * Consumes from one or more queues under one prefetch budget and runs a handler per message.
 * A handler that returns without settling has its message acked; one that throws hands it to the
 * failure policy (retry with a delay, requeue once, or reject). With `settle: 'manual'` the handler
 * is the only one that settles its messages (a task worker with its own ack rules). Messages that cannot be decoded,
 * are not in the accept list or fail the `schema` never reach the handler: they are rejected
 * (dead-lettered where configured). Every failure reaches the `error` event or, with no listener,
 * the logger at `warn`; consumption goes on.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionHost } from './connection-host.js';
import { asyncDispose } from './dispose.js';
import { Emitter } from './emitter.js';
import { InvalidArgumentError, LeaseLostError, RedeliveryLimitError } from './errors.js';
import { ATTEMPT_HEADER, FailurePolicy, type ConsumerRetryPolicy, type FailureAction } from './failure-policy.js';
import { setLongTimeout, type LongTimeout } from './long-timer.js';
import { Message } from './message.js';
import { resolveAccept, type DecodeLimits } from './payload.js';
import { loadSerializer } from './serializer.js';
import { Queue } from './queue.js';
import type { StandardSchemaV1 } from './schema.js';
import { processChannel, serverOf, traced, type TraceServer } from './tracing.js';
import type { Delivery, Subscription } from './spi/transport.js';

export type MessageHandler<T = unknown> = (message: Message<T>) => void | Promise<void>;

/**
 * Lease lapses a message survives by default (`maxLapses`). A lapse means its consumer died, or was
 * stuck past `maxBlockedMs`, while holding it: a message that five consumers in a row died holding
 * is likely what kills them, while one that was only prefetched by consumers that died of other
 * causes survives a rolling restart, an OOM kill and a node loss. (BullMQ fails a job on its second
 * stall, but it fetches one job per slot; a prefetching consumer's death lapses the messages that
 * were only waiting too. RabbitMQ's quorum queues allow 20 deliveries.)
 */
export const DEFAULT_MAX_LAPSES = 5;

export interface ConsumerOptions<T = unknown> {
  /** Most unsettled messages at once (0 = unlimited). Default 10. */
  prefetch?: number;
  /** Handlers running at once. Default 1: messages are handled in delivery order. */
  concurrency?: number;
  /** Messages count as acked on delivery (at-most-once). */
  noAck?: boolean;
  /**
   * 'auto' (default): a handler that returns has its message acked, one that throws hands it to
   * `retry`. 'manual': the consumer never settles a message on the handler's behalf: the handler
   * settles each one itself, and a throw is reported with the message left as it was.
   */
  settle?: 'auto' | 'manual';
  /** Serializer names or MIME types to decode. Default ['json']. */
  accept?: readonly string[];
  /** Checks each decoded body (any Standard Schema: zod, valibot, arktype, ...); its output becomes `message.body`. */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * What a handler failure does. `{ attempts, backoff }`: republish with a delay until `attempts`
   * runs, then reject. `false`: reject at once. Default: requeue once, reject if it fails again.
   */
  retry?: ConsumerRetryPolicy | false;
  /** Called instead of the default (reject + `error` event) for a body that cannot be decoded or fails the schema; it must settle the message. */
  onDecodeError?: (message: Message<T>, error: Error) => void | Promise<void>;
  consumerTag?: string;
  /** Largest body as received, in bytes. Default 128 MiB (`DEFAULT_MAX_BODY_SIZE`). */
  maxBodySize?: number;
  /** Largest body after decompression, in bytes (default 64 MiB). */
  maxDecompressedSize?: number;
  /** How long `stop()` waits for running handlers, in ms. Default 30 000. */
  stopTimeout?: number;
  /**
   * false: handler runs do not go through the `nori:process` tracing channel (no span): for
   * traffic a layer above traces itself (task runs) or internal traffic (remote control, events).
   */
  trace?: boolean;
  /**
   * Lease lapses a message survives (`message.lapses`; see `DEFAULT_MAX_LAPSES`, 5). One that came
   * back more often is not handed to the handler: it is rejected (dead-lettered where the queue has
   * a dead-letter exchange, else dropped) with a `RedeliveryLimitError` on the `error` event.
   */
  maxLapses?: number;
  /** Called instead of the default (reject + `error` event) for a message past `maxLapses`; it must settle the message. */
  onRedeliveryLimit?: (message: Message<T>, error: RedeliveryLimitError) => void | Promise<void>;
}

export type ConsumerEvents<T = unknown> = {
  /** A message failed to decode or validate, its handler threw, or settling it failed; `message` is set when one was involved. */
  error: [error: Error, message: Message<T> | undefined];
};

const ACTION_TEXT: Record<FailureAction['kind'], string> = {
  retry: 'handler failed; retrying later',
  requeue: 'handler failed; requeued once',
  reject: 'handler failed; rejected (dead-lettered where the queue has a dead-letter exchange, else dropped)',
};

export class Consumer<T = unknown> extends Emitter<ConsumerEvents<T>> {
  readonly queues: readonly Queue[];
  readonly consumerTag: string;
  readonly #limits: DecodeLimits;
  readonly #prefetch: number;
  readonly #concurrency: number;
  readonly #maxLapses: number;
  readonly #schema: StandardSchemaV1<unknown, T> | undefined;
  readonly #policy: FailurePolicy;
  readonly #manual: boolean;
  readonly #server: TraceServer;
  #subscription: Subscription | undefined;
  #stopping = false;
  #waiting: Message<T>[] = [];
  #running = 0;
  /** Bumped by `abandon()`: handlers started before it no longer count as running when they end. */
  #generation = 0;
  #idle: (() => void) | undefined;

  constructor(
    private readonly host: ConnectionHost,
    queues: ReadonlyArray<Queue | string>,
    private readonly options: ConsumerOptions<T>,
    private readonly handler: MessageHandler<T>,
  ) {
    super(host.logger);
    if (queues.length === 0) throw new InvalidArgumentError('a consumer needs at least one queue');
    this.queues = queues.map((q) => (typeof q === 'string' ? new Queue(q) : q));
    this.#prefetch = options.prefetch ?? 10;
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.#prefetch) || this.#prefetch < 0) throw new InvalidArgumentError(`prefetch must be a whole number >= 0, got ${this.#prefetch}`);
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1)
      throw new InvalidArgumentError(`concurrency must be a whole number >= 1, got ${this.#concurrency}`);
    this.#maxLapses = options.maxLapses ?? DEFAULT_MAX_LAPSES;
    if (!(this.#maxLapses >= 0)) throw new InvalidArgumentError(`maxLapses must be a number >= 0, got ${this.#maxLapses}`);
    this.consumerTag = options.consumerTag ?? `nori-${randomUUID()}`;
    this.#limits = {
      accept: resolveAccept(options.accept ?? ['json']),
      ...(options.maxBodySize !== undefined && { maxBodySize: options.maxBodySize }),
      ...(options.maxDecompressedSize !== undefined && { maxDecompressedSize: options.maxDecompressedSize }),
    };
    this.#schema = options.schema;
    if (options.settle === 'manual' && options.retry !== undefined)
      throw new InvalidArgumentError("retry is the consumer settling for the handler: it cannot go with settle: 'manual'");
    this.#manual = options.settle === 'manual';
    this.#policy = new FailurePolicy(options.retry);
    this.#server = serverOf(host.urls);
  }

  get running(): boolean {
    return this.#subscription !== undefined;
  }

  /** Declare the queues and start receiving. */
  async start(): Promise<void> {
    if (this.#subscription) return;
    this.#stopping = false;
    // Serializers named in the accept list load now, so a missing package fails start(), not each message.
    for (const name of this.options.accept ?? []) if (!name.includes('/')) await loadSerializer(name);
    const transport = await this.host.transport();
    for (const q of this.queues) await this.host.declare(q);
    this.#subscription = await transport.consume(
      this.queues.map((q) => q.name),
      { prefetch: this.#prefetch, noAck: this.options.noAck ?? false, consumerTag: this.consumerTag },
      (delivery) => this.#receive(delivery),
    );
    this.host.track(this);
    this.logger?.debug({ consumerTag: this.consumerTag, queues: this.queues.map((q) => q.name), prefetch: this.#prefetch }, 'nori consumer: started');
  }

  /**
   * Stop fetching, return prefetched messages that no handler started to the front of their
   * queues (in order), and wait (up to `stopTimeout`) for running handlers to finish.
   */
  async stop(): Promise<void> {
    const subscription = this.#subscription;
    if (!subscription) return;
    this.#stopping = true;
    await subscription.cancel();
    const unstarted = this.#waiting;
    this.#waiting = [];
    for (const m of unstarted.reverse()) await m.release().catch((e: unknown) => this.#settleFailed(e as Error, m, 'release'));
    if (this.#running > 0) {
      let timer: LongTimeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#idle = resolve)),
        new Promise<void>((resolve) => (timer = setLongTimeout(resolve, this.options.stopTimeout ?? 30_000))),
      ]);
      timer?.clear();
    }
    this.#subscription = undefined;
    this.host.untrack(this);
    this.logger?.debug({ consumerTag: this.consumerTag, released: unstarted.length, stillRunning: this.#running }, 'nori consumer: stopped');
  }

  /**
   * Stop waiting for the handlers running now (a task worker's cold stop, which settles their
   * messages itself): `stop()` resolves without them, and they end unseen.
   */
  abandon(): void {
    this.#generation++;
    this.#running = 0;
    this.#idle?.();
  }

  /** `await using consumer = ...` stops it. */
  [asyncDispose](): Promise<void> {
    return this.stop();
  }

  #receive(delivery: Delivery): void {
    this.#waiting.push(new Message<T>(delivery, this.#limits, this.options.noAck ?? false));
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopping && this.#running < this.#concurrency && this.#waiting.length > 0) {
      const message = this.#waiting.shift() as Message<T>;
      if (message.lost) {
        this.#skipLost(message);
        continue;
      }
      this.#running++;
      void this.#handle(message, this.#generation);
    }
  }

  #finished(generation: number): void {
    if (generation !== this.#generation) return;
    this.#running--;
    if (this.#running === 0) this.#idle?.();
    this.#pump();
  }

  /**
   * Another consumer has it now (see `Message.lost`): not started. Released all the same, which
   * frees its prefetch slot; the broker ignores a release of what this consumer no longer holds.
   */
  #skipLost(message: Message<T>): void {
    this.#report(
      new LeaseLostError(`message ${String(message.deliveryTag)} of queue "${message.queue}" was lost while waiting here (see Message.lost): not started`),
      message,
      'message lost before it started; skipped',
    );
    message.release().catch((e: unknown) => this.#settleFailed(e as Error, message, 'release'));
  }

  /** Never rejects: every failure is settled and reported inside. Frees its slot when done (no `then` a message). */
  async #handle(message: Message<T>, generation: number): Promise<void> {
    try {
      if (message.lapses > this.#maxLapses) {
        await this.#overLimit(message);
        return;
      }
      try {
        const loading = message.prepare();
        if (loading) await loading;
        if (this.#schema) await message.parse(this.#schema);
        else message.decode();
      } catch (error) {
        await this.#refuse(message, error as Error, this.options.onDecodeError, 'message refused (cannot decode, not accepted or invalid); rejected');
        return;
      }
      try {
        if (this.options.trace !== false && traced(processChannel))
          await processChannel.tracePromise(this.#run, { ...this.#server, message, queue: message.queue, consumerTag: this.consumerTag }, this, message);
        else await this.handler(message);
      } catch (error) {
        await this.#failed(message, error as Error);
        return;
      }
      // Returned without settling: done. (For noAck messages this is bookkeeping: it frees the prefetch slot.)
      if (!this.#manual && !message.acknowledged) {
        try {
          await message.ack();
        } catch (error) {
          this.#settleFailed(error as Error, message, 'ack');
        }
      }
    } finally {
      this.#finished(generation);
    }
  }

  async #run(message: Message<T>): Promise<void> {
    await this.handler(message);
  }

  #overLimit(message: Message<T>): Promise<void> {
    const error = new RedeliveryLimitError(
      `message ${String(message.deliveryTag)} of queue "${message.queue}" came back ${message.lapses} times after its lease lapsed ` +
        `(the consumer holding it died or was stuck), more than maxLapses (${this.#maxLapses}): not run again`,
    );
    return this.#refuse(
      message,
      error,
      this.options.onRedeliveryLimit,
      'message past maxLapses; rejected (dead-lettered where the queue has a dead-letter exchange, else dropped)',
    );
  }

  /** Not for the handler: `hook` (the user's) or the report settles it, else it is rejected. */
  async #refuse<E extends Error>(
    message: Message<T>,
    error: E,
    hook: ((message: Message<T>, error: E) => void | Promise<void>) | undefined,
    what: string,
  ): Promise<void> {
    try {
      if (hook) await hook(message, error);
      else this.#report(error, message, what);
      if (!message.acknowledged) await message.reject();
    } catch (settleError) {
      this.#settleFailed(settleError as Error, message, 'reject');
    }
  }

  async #failed(message: Message<T>, error: Error): Promise<void> {
    if (message.acknowledged) {
      this.#report(error, message, `handler failed after settling its message (${message.state})`);
      return;
    }
    if (this.#manual) {
      this.#report(error, message, "handler failed; its message is left unsettled (settle: 'manual')");
      return;
    }
    const action: FailureAction = message.noAck ? { kind: 'reject' } : this.#policy.decide(message.headers, message.redelivered);
    this.#report(error, message, ACTION_TEXT[action.kind], action.kind === 'retry' ? { attempt: action.attempt, delay: action.delay } : undefined);
    try {
      if (action.kind === 'retry') await this.#retry(message, action.attempt, action.delay);
      else if (action.kind === 'requeue') await message.requeue();
      else await message.reject();
    } catch (settleError) {
      this.#settleFailed(settleError as Error, message, action.kind);
    }
  }

  /** Republish with the next attempt number and a delay; ack the original only once the copy is confirmed. */
  async #retry(message: Message<T>, attempt: number, delay: number): Promise<void> {
    try {
      const transport = await this.host.transport();
      await transport.publish(
        {
          body: message.rawBody,
          contentType: message.contentType ?? 'application/octet-stream',
          contentEncoding: message.contentEncoding ?? 'binary',
          headers: { ...message.headers, [ATTEMPT_HEADER]: attempt },
          properties: message.properties,
        },
        { exchange: '', routingKey: message.queue, mandatory: false, ...(delay > 0 && { delay }) },
      );
    } catch (error) {
      // Not republished: the original goes back to its queue instead, so nothing is lost.
      this.#report(error as Error, message, 'retry republish failed; requeued instead');
      await message.requeue();
      return;
    }
    this.logger?.debug({ queue: message.queue, deliveryTag: message.deliveryTag, attempt, delay }, 'nori consumer: retry republished; acking the original');
    await message.ack();
  }

  #settleFailed(error: Error, message: Message<T>, settle: string): void {
    this.logger?.debug({ err: error, queue: message.queue, deliveryTag: message.deliveryTag, settle }, 'nori consumer: settle failed');
    this.#report(error, message, `${settle} failed`);
  }

  /** The `error` event, or with no listener one `warn` line: never silent, never a crash. */
  #report(error: Error, message: Message<T> | undefined, what: string, extra?: object): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error, message);
      return;
    }
    this.logger?.warn(
      { err: error, queue: message?.queue, deliveryTag: message?.deliveryTag, consumerTag: this.consumerTag, ...extra },
      `nori consumer: ${what}`,
    );
  }
}
