/**
 * The MongoDB store: real ack emulation with leases instead of kombu's delete-on-fetch. A claim is
 * one findOneAndUpdate that sets a lease; ack deletes; a lapsed lease makes the message claimable
 * again in place (its order key kept, so it comes back first); requeue gives it a new order key at
 * the back. Fanout is stored as one copy per bound queue, so broadcasts are durable and acked.
 *
 * Documents: { _id: ObjectId, queue, tag, rank (-priority: ascending = most urgent), seq (FIFO
 * order key), visibleAt (ms; ETA), expiresAt (Date; TTL index as garbage collection), leaseUntil
 * (ms or null), token (the claim's fencing token), deliveryCount, payload (the kombu JSON envelope) }.
 * Waking up: IdlePoll, cut short by a change stream where the server has them (ChangeWake).
 */
import { randomUUID } from 'node:crypto';
import type { Collection, Db, MongoClient } from 'mongodb';
import { DecodeError, type BrokerUrl } from '@nori/core';
import {
  parseEnvelope,
  type Claimed,
  type Envelope,
  type ExchangeSpec,
  type PutOptions,
  type QueueSpec,
  type RestorePosition,
  type Store,
  type StoreCapabilities,
  type StoredBinding,
  type TransportOptions,
  type Unreadable,
} from '@nori/core/spi';
import { mongoSettings } from './mongo-options.js';
import { createMongoClient } from './client.js';
import { classifyMongoError } from './mongo-error.js';
import { IdlePoll } from './idle-poll.js';
import { readMongoUrl } from './mongo-url.js';
import { ChangeWake, supportsChangeStreams, type WakeSource } from './change-wake.js';

interface MessageDoc {
  queue: string;
  tag: string;
  rank: number;
  seq: number;
  visibleAt: number;
  expiresAt?: Date;
  leaseUntil: number | null;
  /** The current claim's fencing token (null when ready): ack, renew and restore must match it. */
  token?: string | null;
  deliveryCount: number;
  redelivered: boolean;
  payload: string;
}

interface BindingDoc {
  exchange: string;
  queue: string;
  routingKey: string;
  arguments: string;
}

interface QueueDoc {
  name: string;
  spec: string;
  expires?: number;
  lastUsed: number;
}

interface ExchangeDoc {
  name: string;
  spec: string;
}

const CAPABILITIES: StoreCapabilities = {
  headersExchange: true,
  priorities: true,
  messageTtl: true,
  queueExpires: true,
  maxLength: false,
  nativeDelay: true,
  redeliversOnCrash: true,
  processLocal: false,
};

/** FIFO order keys that increase within a process and roughly across processes (time-based). */
let lastSeq = 0;
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}


export class MongoStore implements Store {
  readonly capabilities = CAPABILITIES;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #messages: Collection<MessageDoc>;
  readonly #bindings: Collection<BindingDoc>;
  readonly #queues: Collection<QueueDoc>;
  readonly #exchanges: Collection<ExchangeDoc>;
  readonly #poll: IdlePoll;
  readonly #changes: ChangeWake;
  readonly #useChangeStreams: boolean;

  constructor(
    url: BrokerUrl,
    options: TransportOptions,
  ) {
    const settings = mongoSettings(options);
    this.#client = createMongoClient(url, options);
    this.#db = this.#client.db(readMongoUrl(url).database);
    const prefix = settings.collectionPrefix;
    this.#messages = this.#db.collection<MessageDoc>(`${prefix}.messages`);
    this.#bindings = this.#db.collection<BindingDoc>(`${prefix}.bindings`);
    this.#queues = this.#db.collection<QueueDoc>(`${prefix}.queues`);
    this.#exchanges = this.#db.collection<ExchangeDoc>(`${prefix}.exchanges`);
    this.#poll = new IdlePoll(settings.pollMinMs, settings.pollMaxMs);
    this.#changes = new ChangeWake(() => this.#poll.wake(), options.logger);
    this.#useChangeStreams = settings.changeStreams;
  }

  /** How consumers learn of messages published elsewhere: a change stream, or the poll alone. */
  get wakeSource(): WakeSource {
    return this.#changes.source;
  }

  async connect(): Promise<void> {
    try {
      await this.#client.connect();
      await this.#db.command({ ping: 1 });
      await this.#messages.createIndex({ queue: 1, leaseUntil: 1, rank: 1, seq: 1 });
      await this.#messages.createIndex({ token: 1 });
      // Garbage collection only: expiry is enforced in the claim, since TTL monitors run once a minute.
      await this.#messages.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      await this.#bindings.createIndex({ exchange: 1 });
      await this.#queues.createIndex({ name: 1 });
      if (this.#useChangeStreams && (await supportsChangeStreams(this.#db))) this.#changes.watch(this.#messages);
    } catch (error) {
      await this.#client.close().catch(() => undefined);
      // The transport names the (masked) URL; this says why.
      throw classifyMongoError(error, 'connect');
    }
  }

  classifyError(error: unknown, operation: string): Error {
    return classifyMongoError(error, operation);
  }

  async close(): Promise<void> {
    await this.#changes.close();
    await this.#client.close();
  }

  // ---- topology ----------------------------------------------------------------------------

  async declareExchange(exchange: ExchangeSpec): Promise<void> {
    await this.#exchanges.updateOne({ name: exchange.name }, { $set: { name: exchange.name, spec: JSON.stringify(exchange) } }, { upsert: true });
  }

  async getExchange(name: string): Promise<ExchangeSpec | undefined> {
    const doc = await this.#exchanges.findOne({ name });
    return doc ? (JSON.parse(doc.spec) as ExchangeSpec) : undefined;
  }

  async deleteExchange(name: string): Promise<void> {
    await this.#exchanges.deleteMany({ name });
    await this.#bindings.deleteMany({ exchange: name });
  }

  async declareQueue(queue: QueueSpec): Promise<void> {
    await this.#queues.updateOne(
      { name: queue.name },
      { $set: { name: queue.name, spec: JSON.stringify(queue), lastUsed: Date.now(), ...(queue.expires !== undefined && { expires: queue.expires }) }, ...(queue.expires === undefined && { $unset: { expires: '' } }) },
      { upsert: true },
    );
  }

  async queueExists(name: string): Promise<boolean> {
    return (await this.#live(name)) || (await this.#messages.countDocuments({ queue: name }, { limit: 1 })) > 0;
  }

  /** A declared queue that is not past its expiry; an expired one is deleted on the spot. */
  async #live(name: string): Promise<boolean> {
    const doc = await this.#queues.findOne({ name });
    if (!doc) return false;
    if (doc.expires !== undefined && doc.lastUsed + doc.expires < Date.now()) {
      await this.deleteQueue(name);
      return false;
    }
    return true;
  }

  async #touch(name: string): Promise<void> {
    await this.#queues.updateOne({ name, expires: { $exists: true } }, { $set: { lastUsed: Date.now() } });
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#messages.deleteMany({ queue: name });
    await this.#bindings.deleteMany({ queue: name });
    await this.#queues.deleteMany({ name });
  }

  async bind(exchange: string, b: StoredBinding): Promise<void> {
    const doc = { exchange, queue: b.queue, routingKey: b.routingKey, arguments: JSON.stringify(b.arguments) };
    await this.#bindings.updateOne(doc, { $set: doc }, { upsert: true });
  }

  async unbind(exchange: string, b: StoredBinding): Promise<void> {
    await this.#bindings.deleteMany({ exchange, queue: b.queue, routingKey: b.routingKey });
  }

  async bindings(exchange: string): Promise<StoredBinding[]> {
    const docs = await this.#bindings.find({ exchange }).toArray();
    return docs.map((d) => ({ queue: d.queue, routingKey: d.routingKey, arguments: JSON.parse(d.arguments) as Record<string, unknown> }));
  }

  // ---- messages ----------------------------------------------------------------------------

  async put(queue: string, envelope: Envelope, options: PutOptions): Promise<void> {
    await this.#messages.insertOne({
      queue,
      tag: envelope.properties.delivery_tag,
      rank: -(options.priority ?? 0),
      seq: nextSeq(),
      visibleAt: options.readyAt ?? 0,
      ...(options.expiresAt !== undefined && { expiresAt: new Date(options.expiresAt) }),
      leaseUntil: null,
      deliveryCount: 0,
      redelivered: false,
      payload: JSON.stringify(envelope),
    });
    this.#poll.wake();
  }

  async claim(queue: string, max: number, leaseMs: number): Promise<Array<Claimed | Unreadable>> {
    const claimed: Array<Claimed | Unreadable> = [];
    const now = Date.now();
    const doc0 = await this.#queues.findOne({ name: queue });
    if (doc0?.expires !== undefined && doc0.lastUsed + doc0.expires < now) {
      await this.deleteQueue(queue);
      return [];
    }
    while (claimed.length < max) {
      // Ready, or in flight under a lease that lapsed (its consumer died): claim it in place.
      // A new token per claim: the consumer whose lease lapsed can no longer settle this one.
      const token = randomUUID();
      const doc = await this.#messages.findOneAndUpdate(
        { queue, visibleAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] },
        { $set: { leaseUntil: now + leaseMs, token }, $inc: { deliveryCount: 1 } },
        { sort: { rank: 1, seq: 1 }, returnDocument: 'after' },
      );
      if (!doc) break;
      let envelope: Envelope;
      try {
        envelope = parseEnvelope(doc.payload);
      } catch (error) {
        claimed.push({ queue, token, text: doc.payload, error: error as DecodeError });
        continue;
      }
      envelope.properties.delivery_info.redelivered = doc.redelivered || doc.deliveryCount > 1;
      claimed.push({
        queue,
        envelope,
        tag: doc.tag,
        token,
        deliveryCount: doc.deliveryCount - 1,
        ...(doc.expiresAt && { expiresAt: doc.expiresAt.getTime() }),
      });
    }
    if (claimed.length > 0) {
      this.#poll.wake();
      if (doc0?.expires !== undefined) await this.#touch(queue);
    }
    return claimed;
  }

  /** Poll, backing off while idle (IdlePoll); a change stream, where there is one, cuts the sleep short. */
  async wait(_queues: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.#poll.sleep(timeoutMs, signal);
  }

  async ack(queue: string, tokens: readonly string[]): Promise<number> {
    if (tokens.length === 0) return 0;
    return (await this.#messages.deleteMany({ queue, token: { $in: [...tokens] } })).deletedCount;
  }

  async renew(queue: string, tokens: readonly string[], leaseMs: number): Promise<void> {
    if (tokens.length > 0) await this.#messages.updateMany({ queue, token: { $in: [...tokens] } }, { $set: { leaseUntil: Date.now() + leaseMs } });
  }

  async restore(queue: string, tokens: readonly string[], position: RestorePosition): Promise<number> {
    if (tokens.length === 0) return 0;
    const ready = { leaseUntil: null, token: null, redelivered: true };
    let restored = 0;
    // 'front' keeps each message's order key, so it is ahead of everything published after it.
    if (position === 'front') restored = (await this.#messages.updateMany({ queue, token: { $in: [...tokens] } }, { $set: ready })).modifiedCount;
    else for (const token of tokens) restored += (await this.#messages.updateOne({ queue, token }, { $set: { ...ready, seq: nextSeq() } })).modifiedCount;
    this.#poll.wake();
    return restored;
  }

  /** Lapsed leases need no sweep: the claim query takes them where they are. Reports how many wait. */
  async restoreLapsed(): Promise<number> {
    return this.#messages.countDocuments({ leaseUntil: { $ne: null, $lt: Date.now() } });
  }

  async purge(queue: string): Promise<number> {
    return (await this.#messages.deleteMany({ queue, leaseUntil: null })).deletedCount;
  }

  async size(queue: string): Promise<number> {
    const now = Date.now();
    return this.#messages.countDocuments({ queue, visibleAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] });
  }
}

export const createMongoStore = (url: BrokerUrl, options: TransportOptions): Store => new MongoStore(url, options);
