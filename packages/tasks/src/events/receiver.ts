/**
 * Receives Celery events (celery/events/receiver.py): a queue `<prefix>.<uuid>` bound to the event
 * exchange with `#`, auto-delete, not durable, with a message TTL and an expiry so a receiver that
 * goes away costs the broker nothing after the expiry and never holds more than TTL worth of
 * events before. On Redis the exchange is fanout: events arrive over PUBLISH, nothing is stored.
 * A body may be one event or a list of them (Celery 4+ batches task events).
 */
import { randomUUID } from 'node:crypto';
import { Connection, Emitter, Queue, type ConnectionOptions, type Consumer, type Message } from '@nori/core';
import { startBroadcastConsumer } from '../broadcast-consumer.js';
import type { LamportClock } from './clock.js';
import { eventExchange, type CeleryEvent } from './event.js';

/** Handlers by event type; `*` gets every type without a handler of its own. */
export type EventHandlers = Readonly<Record<string, (event: CeleryEvent) => void>>;

export interface ReceiverOptions {
  /** Binding key (topic exchanges). Default '#': everything. */
  routingKey?: string;
  /** Overrides eventQueueTtl, ms. */
  queueTtl?: number;
  /** Overrides eventQueueExpires, ms. */
  queueExpires?: number;
  /** Queue name suffix; default a uuid. */
  nodeId?: string;
  /** Ask workers for a heartbeat once consuming, so they show up at once (Celery's wakeup). Default true. */
  wakeup?: boolean;
}

export interface ReceiverHost {
  readonly broker: string | readonly string[];
  readonly connectionOptions: ConnectionOptions;
  readonly clock: LamportClock;
  readonly exchange: string;
  readonly queuePrefix: string;
  readonly queueTtl: number;
  readonly queueExpires: number;
  readonly accept: readonly string[];
}

export type ReceiverEvents = {
  /** A message that is not a Celery event, or a handler that threw. */
  error: [error: Error];
};

const isEvent = (v: unknown): v is CeleryEvent => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

export class EventReceiver extends Emitter<ReceiverEvents> {
  readonly connection: Connection;
  /** The receiver's queue, declared as Celery declares it. */
  readonly queue: Queue;
  readonly #host: ReceiverHost;
  readonly #handlers: EventHandlers;
  #consumer: Consumer | undefined;

  constructor(host: ReceiverHost, handlers: EventHandlers, options: ReceiverOptions = {}) {
    super(host.connectionOptions.logger);
    this.#host = host;
    this.#handlers = handlers;
    this.connection = new Connection(host.broker, host.connectionOptions);
    const ttl = options.queueTtl ?? host.queueTtl;
    const expires = options.queueExpires ?? host.queueExpires;
    this.queue = new Queue(`${host.queuePrefix}.${options.nodeId ?? randomUUID()}`, {
      exchange: eventExchange(this.connection, host.exchange),
      routingKey: options.routingKey ?? '#',
      durable: false,
      autoDelete: true,
      ...(ttl > 0 && { messageTtl: ttl }),
      ...(expires > 0 && { expires }),
    });
  }

  /** Declares the queue and consumes it. */
  async start(): Promise<void> {
    if (this.#consumer) return;
    this.#consumer = await startBroadcastConsumer(
      this.connection,
      this.queue,
      { accept: this.#host.accept, onError: (error) => this.emit('error', error) },
      (message) => this.#receive(message),
    );
  }

  /** Stops consuming, deletes the queue, closes the connection. */
  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.stop();
    await this.connection.deleteQueue(this.queue).catch(() => undefined);
    await this.connection.close();
  }

  #receive(message: Message): void {
    const body = message.body;
    for (const event of Array.isArray(body) ? body : [body]) {
      if (!isEvent(event)) {
        this.emit('error', new TypeError(`not a Celery event on ${this.queue.name}: no "type" field`));
        continue;
      }
      // Clients never sync their clocks, so task-sent gets the receiver's (Celery's CLIENT_CLOCK_SKEW).
      if (event.type === 'task-sent') event.clock = Math.max(this.#host.clock.value, 1) - 1;
      this.#host.clock.adjust(event.clock);
      const handler = this.#handlers[event.type] ?? this.#handlers['*'];
      try {
        handler?.(event);
      } catch (error) {
        this.emit('error', error as Error);
      }
    }
  }
}
