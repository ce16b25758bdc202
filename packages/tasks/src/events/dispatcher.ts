/**
 * Sends Celery events (celery/events/dispatcher.py): JSON, transient, header `hostname`, routing
 * key = type with `-` → `.`; or several of one group as one message, a list on `<group>.multi`
 * (Celery's group buffer flush, which every Celery 4+ receiver reads). A send that fails rejects;
 * the worker reports it and goes on.
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

  /** The event as Celery's Event builds it (standard fields first), on this node's clock now. */
  event(type: string, fields: Readonly<Record<string, unknown>> = {}): CeleryEvent {
    return {
      hostname: this.options.hostname,
      utcoffset: utcoffset(),
      pid: process.pid,
      clock: this.options.clock.forward(),
      ...fields,
      timestamp: unixSeconds(),
      type,
    };
  }

  /** Builds the event and publishes it. */
  send(type: string, fields: Readonly<Record<string, unknown>> = {}): Promise<CeleryEvent> {
    const event = this.event(type, fields);
    return this.#publish(event, type.replace(/-/g, '.')).then(() => event);
  }

  /** Events of one group (`task`) as one message on `<group>.multi`, compressed with `compression` when given. */
  sendBatch(group: string, events: readonly CeleryEvent[], compression?: string): Promise<void> {
    return this.#publish(events, `${group}.multi`, compression);
  }

  #publish(body: CeleryEvent | readonly CeleryEvent[], routingKey: string, compression?: string): Promise<void> {
    return this.#producer.publish(body, {
      exchange: this.exchange,
      routingKey,
      headers: { hostname: this.options.hostname },
      deliveryMode: 'transient',
      ...(compression !== undefined && { compression }),
    });
  }
}
