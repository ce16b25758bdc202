/**
 * Celery's event message (celery/events/event.py, dispatcher.py): a JSON object with `type`,
 * `hostname`, `timestamp` (UNIX seconds), `utcoffset` (hours, Python's sign: west is positive),
 * `pid`, `clock`, and fields per type; published on the `celeryev` exchange with the type as
 * routing key (`-` → `.`). The exchange is topic, except on Redis where Celery makes it fanout so
 * events travel over PUBLISH and are never stored (celery/celery#436).
 */
import { Exchange, type Connection } from '@nori/core';
import { REDIS_SCHEMES } from '../protocol/broker-url.js';

/** One event as it travels: Celery's standard fields plus the fields of its type. */
export interface CeleryEvent {
  type: string;
  hostname: string;
  /** UNIX time in seconds (Celery's float). */
  timestamp: number;
  utcoffset: number;
  pid: number;
  clock: number;
  /** Task events: the task id. */
  uuid?: string;
  [field: string]: unknown;
}

/** Celery's event settings, durations in ms. */
export interface EventsOptions {
  /** Workers send task and worker events (Celery's `worker_send_task_events`, `-E`). Default false. */
  sendEvents?: boolean;
  /** Clients send task-sent (Celery's `task_send_sent_event`). Default false. */
  sendTaskSentEvent?: boolean;
  /** Default 'celeryev'. */
  eventExchange?: string;
  /** Receiver queues are named `<prefix>.<uuid>`. Default 'celeryev'. */
  eventQueuePrefix?: string;
  /** Message TTL of receiver queues (x-message-ttl). Default 5000 (Celery's 5 s). */
  eventQueueTtl?: number;
  /** Receiver queues are deleted after this long unused (x-expires). Default 60 000 (Celery's 60 s). */
  eventQueueExpires?: number;
  /** Default 'json'. */
  eventSerializer?: string;
  /** Worker heartbeat interval. Default 2000 (Celery's 2 s). */
  heartbeatInterval?: number;
  /**
   * A worker's task events are sent in batches, as Celery's worker sends them: one list message on
   * `task.multi` at most this long after the batch's first event (so receivers and the dashboard
   * see a task's progress up to this late), or sooner when full. 0 sends each event alone at once.
   * Default 100.
   */
  eventBatchWindow?: number;
  /** Task events a batch holds at most. Default 200. */
  eventBatchSize?: number;
  /** Codec of the batches (kombu's `compression` header, which Celery's receiver reads); false: none. Default 'zlib'. */
  eventCompression?: string | false;
}

export type ResolvedEventsOptions = Required<EventsOptions>;

export function resolveEventsOptions(o: EventsOptions): ResolvedEventsOptions {
  return {
    sendEvents: o.sendEvents ?? false,
    sendTaskSentEvent: o.sendTaskSentEvent ?? false,
    eventExchange: o.eventExchange ?? 'celeryev',
    eventQueuePrefix: o.eventQueuePrefix ?? 'celeryev',
    eventQueueTtl: o.eventQueueTtl ?? 5000,
    eventQueueExpires: o.eventQueueExpires ?? 60_000,
    eventSerializer: o.eventSerializer ?? 'json',
    heartbeatInterval: o.heartbeatInterval ?? 2000,
    eventBatchWindow: o.eventBatchWindow ?? 100,
    eventBatchSize: o.eventBatchSize ?? 200,
    eventCompression: o.eventCompression ?? 'zlib',
  };
}

/** Fanout on Redis (Celery's `get_exchange`: Sentinel and Cluster too), topic elsewhere. */
export function eventExchange(connection: Connection, name: string): Exchange {
  return new Exchange(name, { type: REDIS_SCHEMES.has(connection.info().transport) ? 'fanout' : 'topic' });
}

/** Python's `time.timezone // 3600` (or altzone in DST): hours west of UTC. */
export function utcoffset(now = new Date()): number {
  return Math.floor(now.getTimezoneOffset() / 60);
}

/** `task-succeeded` → `task` (Celery's group_from). */
export function groupOf(type: string): string {
  return type.split('-', 1)[0] as string;
}

/** Adjust a sender's timestamp to local time as Celery's receiver does (adjust_timestamp). */
export function localTimestamp(event: Pick<CeleryEvent, 'timestamp' | 'utcoffset'>): number {
  return event.timestamp - (event.utcoffset - utcoffset()) * 3600;
}
