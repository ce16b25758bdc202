/**
 * Celery's `rpc://` backend (celery/backends/rpc.py): no store at all, a result is a message sent
 * to the caller's reply queue (the `reply_to` of the task, named after the client's oid) through
 * the default exchange, with correlation_id = task id. The reply queue is declared as Celery
 * declares it (not durable, auto-delete, x-expires = resultExpires) before the first task is sent,
 * and consumed from then on without acks; states arriving for ids nobody waits on yet are kept in
 * memory (the latest per id, at most MAX_KEPT ids) until read, as Celery keeps them.
 */
import { Queue, type Consumer, type Message, type Producer } from '@nori/core';
import type { BackendHost, ResultBackend, ResultOrigin, StoredResult } from './backend.js';
import { fromTaskMeta, pendingResult, toTaskMeta } from '../protocol/task-meta.js';
import type { TaskState } from '../states.js';
import { closingController, waitForReady, type WaitOptions } from './wait-ready.js';

/** Most task ids whose latest state is kept; the oldest is dropped beyond it. */
export const MAX_KEPT = 100_000;

export class RpcBackend implements ResultBackend {
  readonly #queue: Queue;
  #consumer: Promise<Consumer> | undefined;
  #producer: Producer | undefined;
  readonly #latest = new Map<string, StoredResult>();
  readonly #watchers = new Map<string, Set<(read: () => StoredResult) => void>>();
  readonly #closing = closingController();

  constructor(private readonly host: BackendHost) {
    this.#queue = new Queue(host.oid, {
      durable: false,
      autoDelete: true,
      ...(host.resultExpires > 0 && { expires: host.resultExpires }),
    });
  }

  /** Declares the reply queue and starts consuming it before the task is published. */
  async onTaskCall(): Promise<void> {
    await this.#listen();
  }

  #listen(): Promise<Consumer> {
    this.#consumer ??= (async () => {
      const { connection } = this.host;
      await connection.declare(this.#queue);
      const accept = [...new Set(['json', this.host.resultSerializer ?? 'json'])];
      const consumer = connection.consumer([this.#queue], { noAck: true, prefetch: 0, concurrency: 1, accept, trace: false }, (message) =>
        this.#onReply(message),
      );
      consumer.on('error', (error) => this.host.logger.warn({ err: error, queue: this.#queue.name }, 'rpc:// result consumer error'));
      await consumer.start();
      return consumer;
    })().catch((error: unknown) => {
      this.#consumer = undefined;
      throw error;
    });
    return this.#consumer;
  }

  #onReply(message: Message): void {
    const body = message.body as { task_id?: unknown } | null;
    const taskId = message.properties.correlationId ?? (typeof body?.task_id === 'string' ? body.task_id : undefined);
    if (taskId === undefined) {
      this.host.logger.warn({ queue: this.#queue.name }, 'rpc:// reply without correlation_id or task_id dropped');
      return;
    }
    const read = (): StoredResult => fromTaskMeta(body, taskId);
    let result: StoredResult | undefined;
    try {
      result = read();
    } catch (error) {
      this.host.logger.warn({ err: error, taskId }, 'rpc:// reply is not a task state; dropped');
    }
    if (result) {
      this.#latest.delete(taskId);
      this.#latest.set(taskId, result);
      if (this.#latest.size > MAX_KEPT) this.#latest.delete(this.#latest.keys().next().value as string);
    }
    for (const watcher of this.#watchers.get(taskId) ?? []) watcher(read);
  }

  async storeResult(taskId: string, state: TaskState, result: unknown, options: { traceback?: string | null; origin?: ResultOrigin } = {}): Promise<void> {
    const replyTo = options.origin?.replyTo;
    // Celery sends nothing when the task message named no reply queue.
    if (!replyTo) return;
    this.#producer ??= this.host.connection.producer({ serializer: this.host.resultSerializer ?? 'json', trace: false });
    await this.#producer.publish(toTaskMeta(taskId, state, result, options.traceback ?? null), {
      exchange: '',
      routingKey: replyTo,
      correlationId: options.origin?.correlationId ?? taskId,
      deliveryMode: 1,
      retry: true,
    });
  }

  async getResult(taskId: string): Promise<StoredResult> {
    await this.#listen();
    return this.#latest.get(taskId) ?? pendingResult(taskId);
  }

  waitFor(taskId: string, options: WaitOptions = {}): Promise<StoredResult> {
    const watch = async (onUpdate: (read: () => StoredResult) => void): Promise<() => void> => {
      let set = this.#watchers.get(taskId);
      if (!set) this.#watchers.set(taskId, (set = new Set()));
      set.add(onUpdate);
      const stop = (): void => {
        set.delete(onUpdate);
        if (set.size === 0) this.#watchers.delete(taskId);
      };
      try {
        await this.#listen();
      } catch (error) {
        stop();
        throw error;
      }
      return stop;
    };
    return waitForReady(taskId, options, this.#closing.signal, watch, () => this.getResult(taskId));
  }

  forget(taskId: string): Promise<void> {
    this.#latest.delete(taskId);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.#closing.abort();
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (consumer) await (await consumer.catch(() => undefined))?.stop();
  }
}
