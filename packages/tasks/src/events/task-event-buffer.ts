/**
 * A worker's task events, batched as Celery's own worker batches them (its dispatcher's
 * `buffer_group=['task']`): each event is built when it happens (its clock and timestamp), kept,
 * and sent with the others as one list message on `task.multi`, compressed: on a broker such as
 * Redis, where every message carries an envelope and a base64 body, this is most of the events'
 * bandwidth. A batch leaves when it holds `size` events, `window` ms after its first event, and on
 * `flush()` (the worker's stop), so a receiver sees a task's progress at most `window` late and
 * nothing is lost. A window of 0 sends every event at once, alone and uncompressed.
 */
import { setLongTimeout, type LongTimeout } from '@nori/core';
import type { EventDispatcher } from './dispatcher.js';
import type { CeleryEvent } from './event.js';

export interface TaskEventBufferOptions {
  /** ms from a batch's first event to its send; 0 sends each event at once. */
  window: number;
  /** Events a batch holds at most. */
  size: number;
  /** Codec of the batch messages (kombu's `compression` header); undefined: not compressed. */
  compression: string | undefined;
}

export class TaskEventBuffer {
  readonly #dispatcher: EventDispatcher;
  readonly #options: TaskEventBufferOptions;
  readonly #report: (error: Error) => void;
  #events: CeleryEvent[] = [];
  #timer: LongTimeout | undefined;

  constructor(dispatcher: EventDispatcher, options: TaskEventBufferOptions, report: (error: Error) => void) {
    this.#dispatcher = dispatcher;
    this.#options = options;
    this.#report = report;
  }

  /** Events waiting for their batch to leave. */
  get pending(): number {
    return this.#events.length;
  }

  /** A task event: into the batch, or sent now when batching is off. */
  add(type: string, fields: Readonly<Record<string, unknown>>): void {
    if (this.#options.window <= 0) {
      this.#dispatcher.send(type, fields).catch(this.#report);
      return;
    }
    this.#events.push(this.#dispatcher.event(type, fields));
    if (this.#events.length >= this.#options.size) void this.flush();
    else this.#timer ??= setLongTimeout(() => void this.flush(), this.#options.window).unref();
  }

  /** Sends the batch now; resolves once the broker has it (a failed send is reported, not thrown). */
  flush(): Promise<void> {
    this.#timer?.clear();
    this.#timer = undefined;
    const events = this.#events;
    if (events.length === 0) return Promise.resolve();
    this.#events = [];
    return this.#dispatcher.sendBatch('task', events, this.#options.compression).catch(this.#report);
  }
}
