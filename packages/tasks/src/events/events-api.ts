/**
 * `app.events` (Celery's `app.events`): receivers, a dispatcher, the state object; and the wiring
 * that makes workers send events when `sendEvents` is on and the app send task-sent when
 * `sendTaskSentEvent` is on. Both off by default, as in Celery.
 */
import type { App } from '../app.js';
import { argsRepr, kwargsRepr } from '../saferepr.js';
import type { Worker } from '../worker.js';
import { LamportClock } from './clock.js';
import { EventDispatcher } from './dispatcher.js';
import { resolveEventsOptions, type EventsOptions, type ResolvedEventsOptions } from './event.js';
import { EventReceiver, type EventHandlers, type ReceiverOptions } from './receiver.js';
import { EventState, type EventStateOptions } from './state.js';
import { WorkerEvents } from './worker-events.js';

export class EventsApi {
  readonly options: ResolvedEventsOptions;
  /** This process's Lamport clock, shared by its events and remote control. */
  readonly clock = new LamportClock();
  readonly #app: App;
  #dispatcher: EventDispatcher | undefined;
  readonly #workers = new WeakMap<Worker, WorkerEvents>();

  constructor(app: App, options: EventsOptions) {
    this.#app = app;
    this.options = resolveEventsOptions(options);
    if (this.options.sendTaskSentEvent) {
      app.on('task-sent', (t) => {
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
          .catch((error: unknown) => app.connection.logger.error({ err: error }, 'task-sent event not sent'));
      });
    }
    app.on('worker-created', (worker) => {
      if (!(worker.options.sendEvents ?? this.options.sendEvents)) return;
      const events = new WorkerEvents(
        worker,
        worker.options.heartbeat === false ? { ...this.options, heartbeatInterval: 0 } : this.options,
        this.clock,
        app.conf.broker,
        { ...app.conf.connection, ...worker.options.connection },
      );
      this.#workers.set(worker, events);
      worker.use(events);
    });
  }

  /** The events step of a worker that sends events. */
  ofWorker(worker: Worker): WorkerEvents | undefined {
    return this.#workers.get(worker);
  }

  /** Sends events on the app's connection (hostname = the app's). */
  get dispatcher(): EventDispatcher {
    this.#dispatcher ??= new EventDispatcher(this.#app.connection, {
      hostname: this.#app.hostname,
      clock: this.clock,
      exchange: this.options.eventExchange,
      serializer: this.options.eventSerializer,
    });
    return this.#dispatcher;
  }

  /** A receiver, not started (its queue is declared by `start()`). */
  receiver(handlers: EventHandlers, options: ReceiverOptions = {}): EventReceiver {
    const conf = this.#app.conf;
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
    if (options.wakeup ?? true) await this.#app.control.heartbeat();
    return receiver;
  }

  /** A state object to feed from a receiver (`{ '*': state.event }`). */
  state(options: EventStateOptions = {}): EventState {
    return new EventState(options);
  }
}
