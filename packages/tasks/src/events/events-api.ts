/**
 * `app.events` (Celery's `app.events`): receivers, a dispatcher, the state object; the sender of a
 * worker's events when `sendEvents` is on; and task-sent events when `sendTaskSentEvent` is on.
 * Both off by default, as in Celery.
 */
import type { Connection, ConnectionOptions } from '@nori/core';
import type { TaskSentInfo } from '../app-events.js';
import { argsRepr, kwargsRepr } from '../protocol/repr.js';
import type { Worker } from '../worker/worker.js';
import { LamportClock } from './clock.js';
import { EventDispatcher } from './dispatcher.js';
import { resolveEventsOptions, type EventsOptions, type ResolvedEventsOptions } from './event.js';
import { EventReceiver, type EventHandlers, type ReceiverOptions } from './receiver.js';
import { EventState, type EventStateOptions } from './state.js';
import { WorkerEventSender } from './worker-event-sender.js';

/** What events need from their App. */
export interface EventsHost {
  /** The App's connection (its task-sent events go out on it). */
  readonly connection: Connection;
  /** The App's node name. */
  readonly hostname: string;
  readonly conf: { readonly broker: string | readonly string[]; readonly connection: ConnectionOptions };
  /** Asks workers for a heartbeat now (remote control), so a new receiver sees them at once. */
  wakeup(): Promise<unknown>;
}

export class EventsApi {
  readonly options: ResolvedEventsOptions;
  /** This process's Lamport clock, shared by its events and remote control. */
  readonly clock = new LamportClock();
  readonly #host: EventsHost;
  #dispatcher: EventDispatcher | undefined;

  constructor(host: EventsHost, options: EventsOptions) {
    this.#host = host;
    this.options = resolveEventsOptions(options);
  }

  /** The task-sent event of a published task (the App calls it when `sendTaskSentEvent` is on). */
  taskSent(t: TaskSentInfo): void {
    void this.dispatcher
      .send('task-sent', {
        uuid: t.id,
        root_id: t.rootId,
        parent_id: t.parentId,
        name: t.name,
        args: argsRepr(t.args),
        kwargs: kwargsRepr(t.kwargs),
        retries: t.retries,
        eta: t.eta?.toISOString() ?? null,
        expires: t.expires?.toISOString() ?? null,
        queue: t.queue ?? null,
        exchange: t.exchange,
        routing_key: t.routingKey,
      })
      .catch((error: unknown) => this.#host.connection.logger.error({ err: error }, 'task-sent event not sent'));
  }

  /** The step that sends a worker's events, when it sends them (its `sendEvents`, else the App's). */
  workerSender(worker: Worker): WorkerEventSender | undefined {
    if (!(worker.options.sendEvents ?? this.options.sendEvents)) return undefined;
    const { conf } = this.#host;
    return new WorkerEventSender(
      worker,
      worker.options.heartbeat === false ? { ...this.options, heartbeatInterval: 0 } : this.options,
      this.clock,
      conf.broker,
      { ...conf.connection, ...worker.options.connection },
    );
  }

  /** Sends events on the app's connection (hostname = the app's). */
  get dispatcher(): EventDispatcher {
    this.#dispatcher ??= new EventDispatcher(this.#host.connection, {
      hostname: this.#host.hostname,
      clock: this.clock,
      exchange: this.options.eventExchange,
      serializer: this.options.eventSerializer,
    });
    return this.#dispatcher;
  }

  /** A receiver, not started (its queue is declared by `start()`). */
  receiver(handlers: EventHandlers, options: ReceiverOptions = {}): EventReceiver {
    const conf = this.#host.conf;
    return new EventReceiver(
      {
        broker: conf.broker,
        connectionOptions: conf.connection,
        clock: this.clock,
        exchange: this.options.eventExchange,
        queuePrefix: this.options.eventQueuePrefix,
        queueTtl: this.options.eventQueueTtl,
        queueExpires: this.options.eventQueueExpires,
        accept: [...new Set([this.options.eventSerializer, 'json'])],
      },
      handlers,
      options,
    );
  }

  /** A started receiver: handlers by event type, `*` for the rest. Stop it with `stop()`. */
  async receive(handlers: EventHandlers, options: ReceiverOptions = {}): Promise<EventReceiver> {
    const receiver = this.receiver(handlers, options);
    await receiver.start();
    if (options.wakeup ?? true) await this.#host.wakeup();
    return receiver;
  }

  /** A state object to feed from a receiver (`{ '*': state.event }`). */
  state(options: EventStateOptions = {}): EventState {
    return new EventState(options);
  }
}
