/**
 * A worker's events on the wire (Celery's `-E`): its local hooks become task-received ...
 * task-revoked with Celery's fields, and task-progress (nori's: a state the task reported, with
 * its meta), sent in compressed batches (task-event-buffer.ts); plus worker-online, a
 * worker-heartbeat every interval and worker-offline, each sent at once. Sent on a connection of
 * its own; a failed send is the worker's `error` event, never a task failure.
 */
import { loadavg, type as osType } from 'node:os';
import { CompressorNotInstalledError, Connection, loadCompressor, setLongTimeout, type ConnectionOptions, type LongTimeout } from '@nori/core';
import { tracebackOf } from '../protocol/exception.js';
import { exceptionRepr, safeRepr } from '../protocol/repr.js';
import { toSeconds } from '../protocol/units.js';
import type { WorkerEvents } from '../worker/events.js';
import type { WorkerStep } from '../worker/options.js';
import type { Worker } from '../worker/worker.js';
import type { LamportClock } from './clock.js';
import { EventDispatcher } from './dispatcher.js';
import type { ResolvedEventsOptions } from './event.js';
import { TaskEventBuffer } from './task-event-buffer.js';

/** `sw_ident` / `sw_ver` of nori workers (Python's are 'py-celery' / its version). */
export const SOFTWARE = { sw_ident: 'nori', sw_ver: '0.1.0', sw_sys: osType() } as const;

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

export class WorkerEventSender implements WorkerStep {
  readonly #worker: Worker;
  readonly #options: ResolvedEventsOptions;
  readonly #clock: LamportClock;
  #connection: Connection | undefined;
  #dispatcher: EventDispatcher | undefined;
  #taskEvents: TaskEventBuffer | undefined;
  #heartbeat: LongTimeout | undefined;
  #processed = 0;
  /** Task events on (remote control's enable_events / disable_events switch them). */
  taskEvents = true;
  readonly #off: Array<() => void> = [];
  #report: (error: Error) => void = () => undefined;

  constructor(worker: Worker, options: ResolvedEventsOptions, clock: LamportClock, broker: string | readonly string[], connectionOptions: ConnectionOptions) {
    this.#worker = worker;
    this.#options = options;
    this.#clock = clock;
    this.#connection = new Connection(broker, connectionOptions);
  }

  /** Tasks started since the worker started (Celery's `processed`). */
  get processed(): number {
    return this.#processed;
  }

  async start(report: (error: Error) => void): Promise<void> {
    this.#report = report;
    const connection = this.#connection as Connection;
    this.#dispatcher = new EventDispatcher(connection, {
      hostname: this.#worker.hostname,
      clock: this.#clock,
      exchange: this.#options.eventExchange,
      serializer: this.#options.eventSerializer,
    });
    const tasks = new TaskEventBuffer(
      this.#dispatcher,
      { window: this.#options.eventBatchWindow, size: this.#options.eventBatchSize, compression: await this.#compression() },
      (error) => this.#report(error),
    );
    this.#taskEvents = tasks;
    const w = this.#worker;
    const listen = <E extends keyof WorkerEvents>(event: E, fn: (...args: WorkerEvents[E]) => void): void => {
      w.on(event, fn);
      this.#off.push(() => w.off(event, fn));
    };
    const send = (type: string, fields: Record<string, unknown>): void => void (this.taskEvents && tasks.add(type, fields));
    listen('task-received', (r) =>
      send('task-received', {
        uuid: r.id,
        name: r.name,
        args: r.argsrepr,
        kwargs: r.kwargsrepr,
        root_id: r.rootId,
        parent_id: r.parentId,
        retries: r.retries,
        eta: iso(r.eta),
        expires: iso(r.expires),
      }),
    );
    listen('task-started', (r) => {
      this.#processed++;
      send('task-started', { uuid: r.id });
    });
    listen('task-succeeded', (r, i) => send('task-succeeded', { uuid: r.id, result: safeRepr(i.result), runtime: toSeconds(i.runtime) }));
    listen('task-failed', (r, i) => send('task-failed', { uuid: r.id, exception: exceptionRepr(i.error), traceback: tracebackOf(i.error) }));
    listen('task-retried', (r, i) => send('task-retried', { uuid: r.id, exception: exceptionRepr(i.reason), traceback: tracebackOf(i.reason) }));
    listen('task-rejected', (r, i) => r && send('task-rejected', { uuid: r.id, requeue: i.requeue }));
    listen('task-revoked', (r, i) =>
      send('task-revoked', { uuid: r.id, terminated: i.terminated, signum: i.terminated ? 'SIGTERM' : null, expired: i.expired }),
    );
    // Celery sends no event for update_state; its State and Flower show this one as the state 'PROGRESS'.
    listen('task-progress', (r, i) => send('task-progress', { uuid: r.id, state: i.state, meta: i.meta }));
    await this.#sendWorker('worker-online');
    // An interval of 0 is a worker started without heartbeats (Celery's --without-heartbeat).
    if (this.#options.heartbeatInterval > 0) {
      this.#nextHeartbeat();
    }
  }

  async stop(): Promise<void> {
    this.#heartbeat?.clear();
    this.#heartbeat = undefined;
    for (const off of this.#off.splice(0)) off();
    await this.#taskEvents?.flush();
    this.#taskEvents = undefined;
    await this.#sendWorker('worker-offline').catch(() => undefined);
    await this.#connection?.close();
    this.#connection = undefined;
  }

  /** Send an event now (also the `heartbeat` control command); failures go to the worker's `error`. */
  send(type: string, fields: Record<string, unknown> = {}): Promise<void> {
    const dispatcher = this.#dispatcher;
    if (!dispatcher || !this.#connection) return Promise.resolve();
    return dispatcher.send(type, fields).then(
      () => undefined,
      (error: unknown) => this.#report(error as Error),
    );
  }

  /** The batches' codec, loaded now (zlib is core's); one that is not installed leaves them uncompressed (logged once). */
  async #compression(): Promise<string | undefined> {
    const codec = this.#options.eventCompression;
    if (codec === false || this.#options.eventBatchWindow <= 0) return undefined;
    try {
      await loadCompressor(codec);
      return codec;
    } catch (error) {
      if (!(error instanceof CompressorNotInstalledError)) throw error;
      this.#connection?.logger.warn({ err: error }, 'task events are sent uncompressed');
      return undefined;
    }
  }

  /** The next heartbeat in one interval (a chain of long timeouts: any interval, and none left behind by stop). */
  #nextHeartbeat(): void {
    this.#heartbeat = setLongTimeout(() => {
      void this.heartbeat();
      if (this.#heartbeat) this.#nextHeartbeat();
    }, this.#options.heartbeatInterval).unref();
  }

  /** A worker-heartbeat now (also the `heartbeat` control command). */
  heartbeat(): Promise<void> {
    return this.#sendWorker('worker-heartbeat');
  }

  #sendWorker(type: string): Promise<void> {
    return this.send(type, {
      freq: toSeconds(this.#options.heartbeatInterval),
      active: this.#worker.active,
      processed: this.#processed,
      loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
      ...SOFTWARE,
    });
  }
}
