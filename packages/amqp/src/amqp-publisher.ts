/**
 * Publishing. By default over one confirm channel: `publish()` resolves on the broker's ack and
 * rejects on a nack, a channel error (404, ...) or its deadline. A producer with `confirms: false`
 * publishes over a plain channel and resolves once the message is written.
 *
 * While disconnected, or while the broker blocks publishes (flow control), publishes wait in a
 * bounded buffer until their deadline; those sent but unconfirmed when the connection drops are
 * sent again after the reconnect (at least once: the broker may have had them). When a channel's
 * write buffer is full, later publishes wait for it to drain (or to close: a channel that dies
 * full never drains).
 */
import type { Channel, ConfirmChannel, Options } from 'amqplib';
import { BrokerBlockedError, ConnectionClosedError, EncodeError, PublishBufferFullError, PublishNackedError, TimeoutError } from '@nori/core';
import { type OutgoingMessage, type PublishTarget, writeProperties } from '@nori/core/spi';
import { amqpError } from './amqp-error.js';
import { LazyChannel } from './lazy-channel.js';
import { holdWrites } from './write-coalescer.js';

interface PendingPublish {
  readonly message: OutgoingMessage;
  readonly target: PublishTarget;
  readonly deadline: number;
  resolve(): void;
  reject(error: Error): void;
}

/** What the publisher needs of its transport. */
export interface PublisherHost {
  /** Connected, and the broker is not blocking publishes. */
  canSend(): boolean;
  isClosed(): boolean;
  /** The broker's reason while it blocks publishes (connection.blocked), else undefined. */
  blockedReason(): string | undefined;
  /** A new channel on the current connection (waits for a reconnect in progress). */
  openChannel(): Promise<Channel>;
  openConfirmChannel(): Promise<ConfirmChannel>;
  /** An error no publish can be told of (the plain channel closed by the broker). */
  error(error: Error): void;
}

export interface PublisherSettings {
  /** Default deadline of a publish, in ms. */
  readonly publishTimeout: number;
  /** Publishes held while disconnected or blocked; past it, `PublishBufferFullError`. */
  readonly maxBufferedPublishes: number;
}

/** Built by assignment, not spreads: this runs once per published message. */
function publishOptions(message: OutgoingMessage, mandatory: boolean): Options.Publish {
  const p = message.properties;
  const o: Options.Publish = {
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: message.headers,
    deliveryMode: p.deliveryMode ?? 2,
    mandatory,
  };
  writeProperties(p, o as Record<string, unknown>, 'amqplib');
  return o;
}

/** Resolves when a full channel drains, or when it closes. */
function drainOrClose(ch: Channel): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.on('drain', done);
    ch.on('close', done);
  });
}

/** The exchange a 404 names ("NOT_FOUND - no exchange 'x' in vhost '/'"), if it names one. */
function missingExchange(error: Error): string | undefined {
  return /NOT_FOUND - no exchange '(.*)' in vhost '/.exec(error.message)?.[1];
}

/** One publishing channel and the wait for its write buffer to drain. */
class Lane<C extends Channel> {
  readonly channel: LazyChannel<C>;
  drained: Promise<void> | undefined;

  constructor(open: () => Promise<C>) {
    this.channel = new LazyChannel(open);
  }

  /** The channel's buffer is full: hold further publishes until it drains. */
  full(ch: C): void {
    this.drained ??= drainOrClose(ch).finally(() => (this.drained = undefined));
  }
}

export class AmqpPublisher {
  readonly #confirming = new Lane<ConfirmChannel>(() => this.#openConfirming());
  readonly #plain = new Lane<Channel>(() => this.#openPlain());
  /** Why the broker closed a confirm channel (404 on a missing exchange, ...). */
  readonly #channelErrors = new WeakMap<Channel, Error>();
  /** Confirm channels closed by a 404 whose failing publish has been seen (see #confirmed). */
  readonly #pastFailure = new WeakSet<Channel>();
  /** Publishes waiting for a connection, or for the broker to stop blocking (bounded). */
  #buffer: PendingPublish[] = [];
  /** Publishes sent and waiting for their confirm. */
  readonly #unconfirmed = new Set<PendingPublish>();

  constructor(
    private readonly host: PublisherHost,
    private readonly settings: PublisherSettings,
  ) {}

  async #openConfirming(): Promise<ConfirmChannel> {
    const ch = await this.host.openConfirmChannel();
    ch.on('error', (e: Error) => this.#channelErrors.set(ch, e));
    return ch;
  }

  async #openPlain(): Promise<Channel> {
    const ch = await this.host.openChannel();
    ch.on('error', (e: Error) => this.host.error(amqpError(e, 'unconfirmed publishing (confirms: false); what was sent since may be lost')));
    return ch;
  }

  publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    if (this.host.isClosed()) return Promise.reject(new ConnectionClosedError('transport is closed'));
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPublish = { message, target, deadline: Date.now() + (target.timeout ?? this.settings.publishTimeout), resolve, reject };
      if (!this.host.canSend()) {
        if (this.#buffer.length >= this.settings.maxBufferedPublishes) {
          const why = this.host.blockedReason() === undefined ? 'not connected' : `the broker is blocking publishes (${this.host.blockedReason()})`;
          reject(new PublishBufferFullError(`${why} and ${this.#buffer.length} publishes are already waiting (maxBufferedPublishes)`));
          return;
        }
        this.#buffer.push(pending);
        return;
      }
      this.#send(pending);
    });
  }

  /** Connected (again), or no longer blocked: send what waited in the buffer. */
  flush(): void {
    const waiting = this.#buffer;
    this.#buffer = [];
    for (const p of waiting) this.#send(p);
  }

  /** The connection is gone, and the channels with it: what was unconfirmed waits to be sent again. */
  lost(): void {
    this.#confirming.channel.reset();
    this.#plain.channel.reset();
    for (const p of this.#unconfirmed) this.#buffer.push(p);
    this.#unconfirmed.clear();
  }

  /** Fail everything waiting with `error` and close the channels (or, not `graceful`, drop them). */
  async close(error: Error, graceful: boolean): Promise<void> {
    for (const p of [...this.#buffer, ...this.#unconfirmed]) p.reject(error);
    this.#buffer = [];
    this.#unconfirmed.clear();
    const lanes = [this.#confirming.channel, this.#plain.channel];
    await Promise.all(lanes.map((c) => (graceful ? c.close() : c.reset())));
  }

  /** Reject the publishes past their deadline (called on a timer). */
  expire(): void {
    const now = Date.now();
    for (const p of this.#unconfirmed) {
      if (p.deadline > now) continue;
      this.#unconfirmed.delete(p);
      p.reject(this.#expired(p, 'not confirmed'));
    }
    const [late, onTime] = [this.#buffer.filter((p) => p.deadline <= now), this.#buffer.filter((p) => p.deadline > now)];
    this.#buffer = onTime;
    for (const p of late) p.reject(this.#expired(p, 'not sent'));
  }

  #expired(p: PendingPublish, what: string): Error {
    const where = `publish to "${p.target.exchange}" / "${p.target.routingKey}"`;
    const reason = this.host.blockedReason();
    if (reason !== undefined) return new BrokerBlockedError(reason, `${where} ${what} in time: the broker is blocking publishes (${reason})`);
    return new TimeoutError(`${where} ${what} in time`);
  }

  #send(p: PendingPublish): void {
    if (p.target.confirm === false) return this.#sendUnconfirmed(p);
    const lane = this.#confirming;
    const ch = lane.channel.channel;
    if (!ch || lane.drained) return void this.#sendLater(p, lane);
    this.#unconfirmed.add(p);
    const { message, target } = p;
    let ok: boolean;
    try {
      holdWrites(ch);
      ok = ch.publish(target.exchange, target.routingKey, toBuffer(message), publishOptions(message, target.mandatory), (err: unknown) =>
        this.#confirmed(p, ch, err),
      );
    } catch (error) {
      this.#unconfirmed.delete(p);
      return this.#failedWrite(p, lane, ch, error);
    }
    if (!ok) lane.full(ch);
  }

  #sendUnconfirmed(p: PendingPublish): void {
    const lane = this.#plain;
    const ch = lane.channel.channel;
    if (!ch || lane.drained) return void this.#sendLater(p, lane);
    let ok: boolean;
    try {
      holdWrites(ch);
      ok = ch.publish(p.target.exchange, p.target.routingKey, toBuffer(p.message), publishOptions(p.message, p.target.mandatory));
    } catch (error) {
      return this.#failedWrite(p, lane, ch, error);
    }
    if (!ok) lane.full(ch);
    p.resolve();
  }

  /** amqplib threw: a channel that is closing goes again on a new one; anything else cannot be encoded. */
  #failedWrite<C extends Channel>(p: PendingPublish, lane: Lane<C>, ch: C, error: unknown): void {
    if ((error as Error).name === 'IllegalOperationError') {
      lane.channel.discard(ch);
      return void this.#sendLater(p, lane);
    }
    p.reject(new EncodeError(`cannot publish to "${p.target.exchange}": ${(error as Error).message}`, { cause: error }));
  }

  async #sendLater<C extends Channel>(p: PendingPublish, lane: Lane<C>): Promise<void> {
    try {
      await lane.drained;
      await lane.channel.get();
    } catch {
      // Not connected after all: it waits in the buffer for the reconnect.
    }
    if (this.host.canSend() && lane.channel.channel && !lane.drained) this.#send(p);
    else if (this.host.canSend() && lane.drained) void this.#sendLater(p, lane);
    else if (!this.host.isClosed()) this.#buffer.push(p);
    else p.reject(new ConnectionClosedError('transport is closed'));
  }

  #confirmed(p: PendingPublish, ch: ConfirmChannel, err: unknown): void {
    if (!this.#unconfirmed.has(p)) return; // already re-buffered after a connection loss
    if (!err) {
      this.#unconfirmed.delete(p);
      return p.resolve();
    }
    if ((err as Error).message === 'message nacked') {
      this.#unconfirmed.delete(p);
      return p.reject(new PublishNackedError(`broker refused the message for "${p.target.exchange}" / "${p.target.routingKey}"`));
    }
    // The channel closed before the confirm. Closed because the connection went away (320 and
    // friends): it stays unconfirmed, and lost() sends it again after the reconnect. Closed by the
    // broker over this channel: a 404 names its missing exchange, and only the publishes to it
    // fail. RabbitMQ handles a channel's commands in order, so those sent before the first of them
    // were routed (only their confirms are lost): they resolve; those sent after it were discarded
    // and go again on a new channel. amqplib fails a closed channel's callbacks in publish order,
    // so "after" is "after the failing publish's callback". Another channel error cannot be pinned
    // on one publish: all fail with it.
    const channelError = this.#channelErrors.get(ch) as (Error & { code?: number }) | undefined;
    if (!channelError || channelError.code === undefined || channelError.code >= 500 || channelError.code === 320) return;
    this.#unconfirmed.delete(p);
    const missing = channelError.code === 404 ? missingExchange(channelError) : undefined;
    if (missing === undefined || missing === p.target.exchange) {
      this.#pastFailure.add(ch);
      return p.reject(amqpError(channelError, `publish to "${p.target.exchange}"`));
    }
    if (!this.#pastFailure.has(ch)) return p.resolve();
    this.#confirming.channel.discard(ch);
    this.#send(p);
  }
}

function toBuffer(message: OutgoingMessage): Buffer {
  const body = message.body;
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
