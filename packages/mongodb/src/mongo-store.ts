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
import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db, MongoClient } from 'mongodb';
import { DecodeError, type BrokerUrl, type QueueOverflow } from '@nori/core';
import {
  parseEnvelope,
  type Claimed,
  type Envelope,
  type ExchangeSpec,
  type PutOptions,
  type PutReport,
  type QueueSpec,
  type RestorePosition,
  type Store,
  type StoreCapabilities,
  type StoredBinding,
  type StoreModule,
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
  /** How many times the sweep brought it back after its lease lapsed (absent on documents of older versions). */
  lapses?: number;
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
  /** Held by the publisher of a queue with a length limit while it counts and inserts (see #withPutLock). */
  putLock?: { token: string; until: number } | null;
}

interface QueueLimit {
  readonly maxLength: number;
  readonly overflow: QueueOverflow;
}

type PutItem = { envelope: Envelope; options: PutOptions };

/** A publisher that died holding a queue's put lock holds up the others at most this long. */
const PUT_LOCK_MS = 10_000;

interface ExchangeDoc {
  name: string;
  spec: string;
}

/**
 * The default `maxBodySize` on MongoDB: a document holds at most 16 MiB and the stored envelope
 * carries the body in base64 (4/3 its size), so 12 MiB of body less 64 KiB kept for the envelope's
 * headers and properties. A larger body is refused at publish rather than by the server.
 */
export const MONGO_MAX_BODY_SIZE = 12 * 1024 * 1024 - 64 * 1024;

const CAPABILITIES: StoreCapabilities = {
  headersExchange: true,
  priorities: true,
  messageTtl: true,
  queueExpires: true,
  maxLength: true,
  nativeDelay: true,
  redeliversOnCrash: true,
  processLocal: false,
  maxBodySize: MONGO_MAX_BODY_SIZE,
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
  /** Length limits by queue (null: none): read from its declaration on a queue's first put, set by this process's declarations. */
  readonly #limits = new Map<string, QueueLimit | null>();

  /** `leaseKeeper`: the lease keeper thread's store, which only renews (no indexes to create, no change stream). */
  constructor(
    url: BrokerUrl,
    options: TransportOptions,
    private readonly role: 'broker' | 'leaseKeeper' = 'broker',
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
      if (this.role === 'leaseKeeper') return;
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
    this.#limits.set(queue.name, limitOf(queue));
    await this.#queues.updateOne(
      { name: queue.name },
      {
        $set: { name: queue.name, spec: JSON.stringify(queue), lastUsed: Date.now(), ...(queue.expires !== undefined && { expires: queue.expires }) },
        ...(queue.expires === undefined && { $unset: { expires: '' } }),
      },
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
    if (expired(doc, Date.now())) {
      await this.deleteQueue(name);
      return false;
    }
    return true;
  }

  /** Every queue past its expiry, whoever declared it (its owner may have been killed): deleted. */
  async forgetExpired(): Promise<number> {
    const now = Date.now();
    const docs = await this.#queues.find({ expires: { $exists: true } }, { projection: { name: 1, expires: 1, lastUsed: 1 } }).toArray();
    const gone = docs.filter((doc) => expired(doc, now));
    for (const doc of gone) await this.deleteQueue(doc.name);
    return gone.length;
  }

  async #touch(name: string): Promise<void> {
    await this.#queues.updateOne({ name, expires: { $exists: true } }, { $set: { lastUsed: Date.now() } });
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#messages.deleteMany({ queue: name });
    await this.#bindings.deleteMany({ queue: name });
    await this.#queues.deleteMany({ name });
    this.#limits.delete(name);
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

  async put(queue: string, envelope: Envelope, options: PutOptions): Promise<PutReport | void> {
    return this.putMany(queue, [{ envelope, options }]);
  }

  /** Queues without a length limit: one insert per message, as they come. */
  async putMany(queue: string, items: readonly PutItem[]): Promise<PutReport | void> {
    // `null` is a cached "no limit": only a queue never seen is read.
    const limit = this.#limits.has(queue) ? this.#limits.get(queue) : await this.#limitOf(queue);
    if (limit) return this.#putLimited(queue, limit, items);
    await Promise.all(items.map((i) => this.#insert(queue, i.envelope, i.options)));
  }

  async #limitOf(queue: string): Promise<QueueLimit | null> {
    const doc = await this.#queues.findOne({ name: queue });
    const limit = doc ? limitOf(JSON.parse(doc.spec) as QueueSpec) : null;
    this.#limits.set(queue, limit);
    return limit;
  }

  /**
   * Count, insert and drop under the queue's put lock, so publishers of every process apply the
   * limit one after another. Claims run beside it: they only shrink the ready count, and a head
   * that a claim and a drop both want goes to one of them (both are single-document atomic).
   * A lapsed lease makes its message ready again without a publish: the next publish counts it.
   */
  async #putLimited(queue: string, limit: QueueLimit, items: readonly PutItem[]): Promise<PutReport> {
    const refused: number[] = [];
    const dropped: Envelope[] = [];
    const locked = await this.#withPutLock(queue, async () => {
      let length = await this.size(queue);
      for (const [i, { envelope, options }] of items.entries()) {
        // Delayed messages are not ready: they count once due, as RabbitMQ has none.
        if (options.readyAt !== undefined && options.readyAt > Date.now()) {
          await this.#insert(queue, envelope, options);
          continue;
        }
        if (limit.overflow === 'reject-publish' && length >= limit.maxLength) {
          refused.push(i);
          continue;
        }
        await this.#insert(queue, envelope, options);
        length++;
        while (length > limit.maxLength) {
          const now = Date.now();
          const head = await this.#messages.findOneAndDelete(
            { queue, visibleAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] },
            { sort: { rank: 1, seq: 1 } },
          );
          if (!head) break;
          length--;
          dropped.push(...readable(head.payload));
        }
      }
    });
    // The queue was deleted since: no limit any more.
    if (!locked) {
      this.#limits.delete(queue);
      return this.putMany(queue, items).then(() => ({ refused: [], dropped: [] }));
    }
    return { refused, dropped };
  }

  /** Run `work` holding the queue's put lock; false (without running it) when the queue is not declared. */
  async #withPutLock(queue: string, work: () => Promise<void>): Promise<boolean> {
    const token = randomUUID();
    for (;;) {
      const now = Date.now();
      const free = { $or: [{ putLock: { $exists: false } }, { putLock: null }, { 'putLock.until': { $lt: now } }] };
      const taken = await this.#queues.updateOne({ name: queue, ...free }, { $set: { putLock: { token, until: now + PUT_LOCK_MS } } });
      if (taken.modifiedCount === 1) break;
      if ((await this.#queues.countDocuments({ name: queue }, { limit: 1 })) === 0) return false;
      await sleep(5 + Math.random() * 10);
    }
    try {
      await work();
    } finally {
      await this.#queues.updateOne({ name: queue, 'putLock.token': token }, { $set: { putLock: null } });
    }
    return true;
  }

  async #insert(queue: string, envelope: Envelope, options: PutOptions): Promise<void> {
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
    if (doc0 && expired(doc0, now)) {
      await this.deleteQueue(queue);
      return [];
    }
    // A claim is a use, found or not: an idle consumer polls at least every pollMaxMs, so its queue stays.
    if (doc0?.expires !== undefined) await this.#touch(queue);
    while (claimed.length < max) {
      // Ready: not in flight (a lapsed lease is made ready by the sweep, which counts the lapse).
      // A new token per claim: the consumer whose lease lapsed can no longer settle this one.
      const token = randomUUID();
      const doc = await this.#messages.findOneAndUpdate(
        { queue, visibleAt: { $lte: now }, leaseUntil: null },
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
        lapses: doc.lapses ?? 0,
        ...(doc.expiresAt && { expiresAt: doc.expiresAt.getTime() }),
      });
    }
    if (claimed.length > 0) this.#poll.wake();
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

  /**
   * Lapsed leases back to ready in place (their order key kept, so they come first), each counting
   * one more lapse. One update per document is atomic: a renew that came first keeps its lease, and
   * of several processes sweeping only one brings each message back.
   */
  async restoreLapsed(): Promise<number> {
    const { modifiedCount } = await this.#messages.updateMany(
      { leaseUntil: { $ne: null, $lt: Date.now() } },
      { $set: { leaseUntil: null, token: null, redelivered: true }, $inc: { lapses: 1 } },
    );
    if (modifiedCount > 0) this.#poll.wake();
    return modifiedCount;
  }

  async purge(queue: string): Promise<number> {
    return (await this.#messages.deleteMany({ queue, leaseUntil: null })).deletedCount;
  }

  async size(queue: string): Promise<number> {
    const now = Date.now();
    return this.#messages.countDocuments({ queue, visibleAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] });
  }
}

/** Unused (not declared again, not claimed from) for longer than its expiry. */
function expired(doc: Pick<QueueDoc, 'expires' | 'lastUsed'>, now: number): boolean {
  return doc.expires !== undefined && doc.lastUsed + doc.expires < now;
}

function limitOf(queue: QueueSpec): QueueLimit | null {
  return queue.maxLength === undefined ? null : { maxLength: queue.maxLength, overflow: queue.overflow ?? 'drop-head' };
}

/** A dropped head to dead-letter; one that is not a readable envelope (a foreign peer's) has none. */
function readable(payload: string): Envelope[] {
  try {
    return [parseEnvelope(payload)];
  } catch {
    return [];
  }
}

export const createMongoStore = (url: BrokerUrl, options: TransportOptions): Store => new MongoStore(url, options);

/** The lease keeper thread's store (renewals only). */
export const createMongoLeaseStore = (url: BrokerUrl, options: TransportOptions): Store => new MongoStore(url, options, 'leaseKeeper');

/** Where the lease keeper's thread finds `createMongoLeaseStore`. */
export const mongoStoreModule: StoreModule = { url: import.meta.url, exportName: 'createMongoLeaseStore' };
