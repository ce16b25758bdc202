/**
 * Publishing over one confirm channel: `publish()` resolves on the broker's ack and rejects on a
 * nack, a channel error (404, ...) or its deadline. While disconnected, publishes wait in a bounded
 * buffer; those sent but unconfirmed when the connection drops are sent again after the reconnect
 * (at least once: the broker may have had them). When the channel's write buffer is full, later
 * publishes wait for it to drain (or to close: a channel that dies full never drains).
 */
import type { Channel, ConfirmChannel, Options } from 'amqplib';
import {
  ConnectionClosedError,
  PublishBufferFullError,
  PublishNackedError,
  TimeoutError,
  type OutgoingMessage,
  type PublishTarget,
} from '@nori/core';
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
  isConnected(): boolean;
  isClosed(): boolean;
  /** A new confirm channel on the current connection (waits for a reconnect in progress). */
  openChannel(): Promise<ConfirmChannel>;
}

export interface PublisherSettings {
  /** Default deadline of a publish, in ms. */
  readonly publishTimeout: number;
  /** Publishes held while disconnected; past it, `PublishBufferFullError`. */
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
  if (p.priority !== undefined) o.priority = p.priority;
  if (p.correlationId !== undefined) o.correlationId = p.correlationId;
  if (p.replyTo !== undefined) o.replyTo = p.replyTo;
  if (p.expiration !== undefined) o.expiration = String(p.expiration);
  if (p.messageId !== undefined) o.messageId = p.messageId;
  if (p.timestamp !== undefined) o.timestamp = p.timestamp;
  if (p.type !== undefined) o.type = p.type;
  if (p.userId !== undefined) o.userId = p.userId;
  if (p.appId !== undefined) o.appId = p.appId;
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

export class ConfirmedPublisher {
  readonly #channel = new LazyChannel<ConfirmChannel>(() => this.#open());
  /** Why the broker closed a channel (404 on a missing exchange, ...). */
  readonly #channelErrors = new WeakMap<Channel, Error>();
  /** Publishes waiting for a connection (bounded). */
  #buffer: PendingPublish[] = [];
  /** Publishes sent and waiting for their confirm. */
  readonly #unconfirmed = new Set<PendingPublish>();
  #drained: Promise<void> | undefined;

  constructor(
    private readonly host: PublisherHost,
    private readonly settings: PublisherSettings,
  ) {}

  async #open(): Promise<ConfirmChannel> {
    const ch = await this.host.openChannel();
    ch.on('error', (e: Error) => this.#channelErrors.set(ch, e));
    return ch;
  }

  publish(message: OutgoingMessage, target: PublishTarget): Promise<void> {
    if (this.host.isClosed()) return Promise.reject(new ConnectionClosedError('transport is closed'));
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPublish = { message, target, deadline: Date.now() + (target.timeout ?? this.settings.publishTimeout), resolve, reject };
      if (!this.host.isConnected()) {
        if (this.#buffer.length >= this.settings.maxBufferedPublishes) {
          reject(new PublishBufferFullError(`not connected and ${this.#buffer.length} publishes are already waiting (maxBufferedPublishes)`));
          return;
        }
        this.#buffer.push(pending);
        return;
      }
      this.#send(pending);
    });
  }

  /** Connected (again): send what waited in the buffer. */
  flush(): void {
    const waiting = this.#buffer;
    this.#buffer = [];
    for (const p of waiting) this.#send(p);
  }

  /** The connection is gone, and the channel with it: what was unconfirmed waits to be sent again. */
  lost(): void {
    this.#channel.reset();
    for (const p of this.#unconfirmed) this.#buffer.push(p);
    this.#unconfirmed.clear();
  }

  /** Fail everything waiting with `error` and close the channel. */
  async close(error: Error): Promise<void> {
    for (const p of [...this.#buffer, ...this.#unconfirmed]) p.reject(error);
    this.#buffer = [];
    this.#unconfirmed.clear();
    await this.#channel.close();
  }

  /** Reject the publishes past their deadline (called on a timer). */
  expire(): void {
    const now = Date.now();
    for (const p of this.#unconfirmed) {
      if (p.deadline > now) continue;
      this.#unconfirmed.delete(p);
      p.reject(this.#timedOut(p));
    }
    const [late, onTime] = [this.#buffer.filter((p) => p.deadline <= now), this.#buffer.filter((p) => p.deadline > now)];
    this.#buffer = onTime;
    for (const p of late) p.reject(this.#timedOut(p));
  }

  #timedOut(p: PendingPublish): TimeoutError {
    return new TimeoutError(`publish to "${p.target.exchange}" / "${p.target.routingKey}" not confirmed in time`);
  }

  #send(p: PendingPublish): void {
    const ch = this.#channel.channel;
    if (!ch || this.#drained) {
      void this.#sendLater(p);
      return;
    }
    this.#unconfirmed.add(p);
    const { message, target } = p;
    const body = Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
    let ok: boolean;
    try {
      holdWrites(ch);
      ok = ch.publish(target.exchange, target.routingKey, body, publishOptions(message, target.mandatory), (err: unknown) => this.#confirmed(p, ch, err));
    } catch (error) {
      this.#unconfirmed.delete(p);
      p.reject(error as Error);
      return;
    }
    // The channel's buffer is full: hold further publishes until it drains.
    if (!ok) this.#drained ??= drainOrClose(ch).finally(() => (this.#drained = undefined));
  }

  async #sendLater(p: PendingPublish): Promise<void> {
    try {
      await this.#drained;
      await this.#channel.get();
    } catch {
      // Not connected after all: it waits in the buffer for the reconnect.
    }
    if (this.host.isConnected() && this.#channel.channel && !this.#drained) this.#send(p);
    else if (this.host.isConnected() && this.#drained) void this.#sendLater(p);
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
    // The channel closed before the confirm. Closed by the broker over this channel (e.g. 404):
    // fail the publish. Closed because the connection went away (320 and friends): it stays
    // unconfirmed, and lost() sends it again after the reconnect.
    const channelError = this.#channelErrors.get(ch) as { code?: number } | undefined;
    if (channelError && channelError.code !== undefined && channelError.code < 500 && channelError.code !== 320) {
      this.#unconfirmed.delete(p);
      p.reject(amqpError(channelError, `publish to "${p.target.exchange}"`));
    }
  }
}
