/**
 * Sends Celery events (celery/events/dispatcher.py): JSON, transient, header `hostname`, routing
 * key = type with `-` → `.`. A send that fails rejects; the worker reports it and goes on.
 */
import type { Connection, Exchange, Producer } from '@nori/core';
import { unixSeconds } from '../protocol/units.js';
import { eventExchange, utcoffset, type CeleryEvent } from './event.js';
import type { LamportClock } from './clock.js';

export interface DispatcherOptions {
  hostname: string;
  clock: LamportClock;
  exchange: string;
  serializer: string;
}

export class EventDispatcher {
  readonly exchange: Exchange;
  readonly #producer: Producer;

  constructor(
    readonly connection: Connection,
    readonly options: DispatcherOptions,
  ) {
    this.exchange = eventExchange(connection, options.exchange);
    this.#producer = connection.producer({ serializer: options.serializer, trace: false });
  }

  /** Builds the event (standard fields first, as Celery's Event) and publishes it. */
  send(type: string, fields: Readonly<Record<string, unknown>> = {}): Promise<CeleryEvent> {
    const event: CeleryEvent = {
      hostname: this.options.hostname,
      utcoffset: utcoffset(),
      pid: process.pid,
      clock: this.options.clock.forward(),
      ...fields,
      timestamp: unixSeconds(),
      type,
    };
    return this.#producer
      .publish(event, {
        exchange: this.exchange,
        routingKey: type.replace(/-/g, '.'),
        headers: { hostname: this.options.hostname },
        deliveryMode: 'transient',
      })
      .then(() => event);
  }
}
