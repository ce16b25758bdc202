/**
 * `app.control` (celery/app/control.py): broadcast a command to workers over the mailbox and, for
 * calls that want replies, collect `{node: reply}` objects carrying this call's ticket for
 * `timeout` ms (or until `limit` replies). Replies for other tickets are left for their callers.
 */
import { randomUUID } from 'node:crypto';
import { setLongTimeout, type Connection, type Consumer, type Producer } from '@nori/core';
import { startBroadcastConsumer } from '../broadcast-consumer.js';
import type { LamportClock } from '../events/clock.js';
import { secondsOrNull, toSeconds, unixSeconds } from '../protocol/units.js';
import { warnDuplicateNodenames } from './duplicate-nodename.js';
import { type ControlCommand, type Mailbox } from './mailbox.js';

export interface BroadcastOptions {
  arguments?: Record<string, unknown>;
  /** Node names; default every node. */
  destination?: readonly string[];
  /** Node-name pattern with `matcher` 'glob' or 'pcre'. */
  pattern?: string;
  matcher?: 'glob' | 'pcre';
  /** Wait for replies. */
  reply?: boolean;
  /** How long to collect replies, ms. Default 1000 (Celery's 1 s). */
  timeout?: number;
  /** Stop after this many replies (default: the number of destinations, if given). */
  limit?: number;
  /** Called with each reply as it arrives. */
  callback?: (reply: Record<string, unknown>) => void;
}

export type InspectOptions = Pick<BroadcastOptions, 'destination' | 'pattern' | 'matcher' | 'timeout' | 'limit' | 'callback'>;

/** Replies by node name; null when no node replied. */
export type Replies<T = unknown> = Record<string, T> | null;

export interface ControlHost {
  readonly connection: Connection;
  readonly oid: string;
  readonly clock: LamportClock;
  readonly mailbox: Mailbox;
  readonly serializer: string;
  readonly accept: readonly string[];
}

interface Collector {
  replies: Array<Record<string, unknown>>;
  limit: number | undefined;
  callback: ((reply: Record<string, unknown>) => void) | undefined;
  done: () => void;
}

export class Control {
  readonly #host: ControlHost;
  readonly #collectors = new Map<string, Collector>();
  #producer: Producer | undefined;
  #consumer: Promise<Consumer> | undefined;

  constructor(host: ControlHost) {
    this.#host = host;
  }

  /** The mailbox commands go through (a monitor may bind a queue of its own to watch them). */
  get mailbox(): Mailbox {
    return this.#host.mailbox;
  }

  /** Send a command; with `reply`, the replies gathered within the timeout. */
  async broadcast(command: string, options: BroadcastOptions = {}): Promise<Array<Record<string, unknown>>> {
    const h = this.#host;
    const ticket = options.reply ? randomUUID() : undefined;
    const timeout = options.timeout ?? 1000;
    const body: ControlCommand = {
      method: command,
      arguments: options.arguments ?? {},
      destination: options.destination ? [...options.destination] : null,
      pattern: options.pattern ?? null,
      matcher: options.pattern ? (options.matcher ?? 'glob') : null,
    };
    let collected: Promise<Array<Record<string, unknown>>> = Promise.resolve([]);
    if (ticket) {
      await this.#listen();
      body.ticket = ticket;
      body.reply_to = { exchange: h.mailbox.replyExchange.name, routing_key: h.oid };
      collected = new Promise((resolve) => {
        const collector: Collector = {
          replies: [],
          limit: options.limit ?? (options.destination?.length || undefined),
          callback: options.callback,
          done: () => undefined,
        };
        const timer = setLongTimeout(() => collector.done(), timeout);
        collector.done = () => {
          timer.clear();
          this.#collectors.delete(ticket);
          resolve(collector.replies);
        };
        this.#collectors.set(ticket, collector);
      });
    }
    this.#producer ??= h.connection.producer({ serializer: h.serializer, trace: false });
    await this.#producer.publish(body, {
      exchange: h.mailbox.exchange,
      headers: { clock: h.clock.forward(), expires: ticket ? unixSeconds() + toSeconds(timeout) : 0 },
      deliveryMode: 'transient',
    });
    return collected;
  }

  /** Inspect commands (read-only), replies by node. */
  inspect(options: InspectOptions = {}): Inspect {
    return new Inspect(this, options);
  }

  /** `{node: {ok: 'pong'}}` from every worker that answers within the timeout. */
  ping(options: InspectOptions = {}): Promise<Replies> {
    return this.inspect(options).ping();
  }

  /** Never run these ids; with `terminate`, also end them where they run. */
  revoke(ids: string | readonly string[], options: InspectOptions & { terminate?: boolean; signal?: string; reply?: boolean } = {}): Promise<Replies> {
    return this.#command(
      'revoke',
      { task_id: typeof ids === 'string' ? ids : [...ids], terminate: options.terminate ?? false, signal: options.signal ?? 'SIGTERM' },
      options,
    );
  }

  /** '10/s', '100/m', '1000/h', or a number per second; null or 0 = no limit. */
  rateLimit(taskName: string, rate: string | number | null, options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('rate_limit', { task_name: taskName, rate_limit: rate }, options);
  }

  /** Time limits in ms (sent as Celery's seconds). */
  timeLimit(taskName: string, limits: { soft?: number; hard?: number }, options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('time_limit', { task_name: taskName, soft: secondsOrNull(limits.soft), hard: secondsOrNull(limits.hard) }, options);
  }

  addConsumer(
    queue: string,
    options: InspectOptions & { reply?: boolean; exchange?: string; exchangeType?: string; routingKey?: string } = {},
  ): Promise<Replies> {
    return this.#command(
      'add_consumer',
      { queue, exchange: options.exchange ?? null, exchange_type: options.exchangeType ?? 'direct', routing_key: options.routingKey ?? null },
      options,
    );
  }

  cancelConsumer(queue: string, options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('cancel_consumer', { queue }, options);
  }

  poolGrow(n = 1, options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('pool_grow', { n }, options);
  }

  poolShrink(n = 1, options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('pool_shrink', { n }, options);
  }

  /** New bounds of workers' autoscalers (Celery's `autoscale`): `{ok: 'autoscale now max=.. min=..'}`, or Celery's error where a worker has none. */
  autoscale(max: number, min: number, options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('autoscale', { max, min }, options);
  }

  enableEvents(options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('enable_events', {}, options);
  }

  disableEvents(options: InspectOptions & { reply?: boolean } = {}): Promise<Replies> {
    return this.#command('disable_events', {}, options);
  }

  /** Ask workers for a heartbeat event now. */
  heartbeat(options: InspectOptions = {}): Promise<Replies> {
    return this.#command('heartbeat', {}, { ...options, reply: false });
  }

  /** Warm shutdown of the workers (they send no reply). */
  async shutdown(options: Pick<InspectOptions, 'destination' | 'pattern' | 'matcher'> = {}): Promise<void> {
    await this.broadcast('shutdown', { ...options, arguments: { msg: 'Got shutdown from remote' } });
  }

  /** Stop listening for replies and delete the reply queue. */
  async close(): Promise<void> {
    const pending = this.#consumer;
    this.#consumer = undefined;
    for (const c of [...this.#collectors.values()]) c.done();
    const consumer = await pending?.catch(() => undefined);
    await consumer?.stop();
    for (const queue of consumer?.queues ?? []) await this.#host.connection.deleteQueue(queue).catch(() => undefined);
  }

  /**
   * @internal A command whose replies are flattened to `{node: reply}` (Celery's flatten_reply): two
   * replies from one node name are two workers sharing a name, warned as Celery warns.
   */
  async request(command: string, args: Record<string, unknown>, options: BroadcastOptions): Promise<Replies> {
    const replies = await this.broadcast(command, { ...options, arguments: args, reply: true });
    if (replies.length === 0) return null;
    const nodes: Record<string, unknown> = {};
    const dupes: string[] = [];
    for (const reply of replies)
      for (const [node, value] of Object.entries(reply)) {
        if (Object.hasOwn(nodes, node)) dupes.push(node);
        nodes[node] = value;
      }
    warnDuplicateNodenames(dupes);
    return nodes;
  }

  #command(command: string, args: Record<string, unknown>, options: InspectOptions & { reply?: boolean }): Promise<Replies> {
    if (options.reply === false) return this.broadcast(command, { ...options, arguments: args }).then(() => null);
    return this.request(command, args, options);
  }

  /** One consumer of this client's reply queue, started on the first call that wants replies. */
  #listen(): Promise<Consumer> {
    this.#consumer ??= (async () => {
      const h = this.#host;
      const transport = await h.connection.transport();
      const queue = h.mailbox.replyQueue(h.oid, transport.capabilities);
      return startBroadcastConsumer(
        h.connection,
        queue,
        { accept: h.accept, onError: (error) => h.connection.logger.error({ err: error }, 'control reply not read') },
        (message) => {
          const ticket = message.headers['ticket'];
          const collector = typeof ticket === 'string' ? this.#collectors.get(ticket) : undefined;
          const reply = message.body;
          if (!collector || typeof reply !== 'object' || reply === null) return;
          h.clock.adjust(message.headers['clock']);
          collector.replies.push(reply as Record<string, unknown>);
          collector.callback?.(reply as Record<string, unknown>);
          if (collector.limit !== undefined && collector.replies.length >= collector.limit) collector.done();
        },
      );
    })();
    return this.#consumer;
  }
}

/** `app.control.inspect()`: read-only commands, replies by node name (null when none replied). */
export class Inspect {
  constructor(
    readonly control: Control,
    readonly options: InspectOptions,
  ) {}

  #ask<T>(command: string, args: Record<string, unknown> = {}): Promise<Replies<T>> {
    return this.control.request(command, args, this.options) as Promise<Replies<T>>;
  }

  ping(): Promise<Replies<{ ok: string }>> {
    return this.#ask('ping');
  }

  /** Tasks running now (Celery's Request.info()). */
  active(safe = false): Promise<Replies<unknown[]>> {
    return this.#ask('active', { safe });
  }

  /** Prefetched, not yet running. */
  reserved(): Promise<Replies<unknown[]>> {
    return this.#ask('reserved');
  }

  /** Waiting for their ETA. */
  scheduled(): Promise<Replies<unknown[]>> {
    return this.#ask('scheduled');
  }

  revoked(): Promise<Replies<string[]>> {
    return this.#ask('revoked');
  }

  registered(...taskinfoitems: string[]): Promise<Replies<string[]>> {
    return this.#ask('registered', { taskinfoitems });
  }

  stats(): Promise<Replies<Record<string, unknown>>> {
    return this.#ask('stats');
  }

  activeQueues(): Promise<Replies<Array<Record<string, unknown>>>> {
    return this.#ask('active_queues');
  }

  conf(withDefaults = false): Promise<Replies<Record<string, unknown>>> {
    return this.#ask('conf', { with_defaults: withDefaults });
  }

  queryTask(...ids: string[]): Promise<Replies<Record<string, [string, unknown]>>> {
    return this.#ask('query_task', { ids });
  }

  clock(): Promise<Replies<{ clock: number }>> {
    return this.#ask('clock');
  }

  /** Software, platform and settings, for a bug report (Celery's `report`). */
  report(): Promise<Replies<{ ok: string }>> {
    return this.#ask('report');
  }
}
