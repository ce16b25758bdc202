/**
 * A worker's end of the mailbox (kombu's pidbox Node with Celery's handlers): reads
 * `<hostname>.celery.pidbox` without acks, runs the commands addressed to it (destination list, or
 * pattern + matcher, or everyone), and replies `{<hostname>: result}` with the caller's ticket.
 */
import type { Connection, Consumer, Message, Producer } from '@nori/core';
import { startBroadcastConsumer } from '../broadcast-consumer.js';
import type { LamportClock } from '../events/clock.js';
import type { WorkerStep } from '../worker/options.js';
import { matches, type ControlCommand, type Mailbox } from './mailbox.js';
import { NO_REPLY, PANEL, type PanelContext } from './panel.js';

const isCommand = (v: unknown): v is ControlCommand => typeof v === 'object' && v !== null && typeof (v as { method?: unknown }).method === 'string';

export class ControlNode implements WorkerStep {
  readonly #mailbox: Mailbox;
  readonly #connection: Connection;
  readonly #clock: LamportClock;
  readonly #context: () => PanelContext;
  readonly #accept: readonly string[];
  #ctx: PanelContext | undefined;
  #consumer: Consumer | undefined;
  #producer: Producer | undefined;
  #report: (error: Error) => void = () => undefined;

  constructor(options: { mailbox: Mailbox; connection: Connection; clock: LamportClock; accept: readonly string[]; context: () => PanelContext }) {
    this.#mailbox = options.mailbox;
    this.#connection = options.connection;
    this.#clock = options.clock;
    this.#accept = options.accept;
    this.#context = options.context;
  }

  async start(report: (error: Error) => void): Promise<void> {
    this.#report = report;
    this.#ctx = this.#context();
    const transport = await this.#connection.transport();
    const queue = this.#mailbox.nodeQueue(this.#ctx.worker.hostname, transport.capabilities);
    this.#producer = this.#connection.producer({ trace: false });
    this.#consumer = await startBroadcastConsumer(this.#connection, queue, { accept: this.#accept, concurrency: 8, onError: report }, (message) =>
      this.#handle(message),
    );
  }

  /** Stops reading and deletes the node queue (on Redis its binding would otherwise stay behind). */
  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.stop();
    for (const queue of consumer?.queues ?? []) await this.#connection.deleteQueue(queue).catch((error: unknown) => this.#report(error as Error));
  }

  async #handle(message: Message): Promise<void> {
    const body = message.body;
    const ctx = this.#ctx;
    if (!isCommand(body) || !ctx) return;
    this.#clock.adjust(message.headers['clock']);
    const hostname = ctx.worker.hostname;
    if (body.destination && body.destination.length > 0) {
      if (!body.destination.includes(hostname)) return;
    } else if (body.pattern && body.matcher && !matches(hostname, body.pattern, body.matcher)) {
      return;
    }
    const command = Object.hasOwn(PANEL, body.method) ? PANEL[body.method] : undefined;
    let reply: unknown;
    if (!command) {
      // Celery's panel raises KeyError, logged, and its repr answered: the caller learns too.
      this.#report(new Error(`no such control command: ${body.method}`));
      reply = { error: `KeyError('${body.method}')` };
    } else {
      try {
        reply = await command(ctx, body.arguments ?? {});
      } catch (error) {
        reply = { error: String(error) };
      }
    }
    if (reply === NO_REPLY || !body.reply_to || !this.#producer) return;
    try {
      await this.#producer.publish(
        { [hostname]: reply ?? null },
        {
          exchange: this.#mailbox.replyExchange,
          routingKey: body.reply_to.routing_key,
          headers: { ticket: body.ticket ?? null, clock: this.#clock.forward() },
          deliveryMode: 'transient',
        },
      );
    } catch (error) {
      this.#report(error as Error);
    }
  }
}
