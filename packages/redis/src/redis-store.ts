/**
 * The Redis store: kombu's wire format (so Python kombu/Celery share the queues) with nori's
 * delivery guarantees: atomic claims into `unacked`, renewable leases compatible with kombu's
 * visibility-timeout sweep, delayed messages outside the in-flight set, and a restore sweep that
 * runs in every connected process. A Redis Cluster (`redis+cluster://`) works the same way, with
 * each queue's keys in one hash slot (see Keys).
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type ChainableCommander } from 'ioredis';
import { ConnectionError, DecodeError, InvalidArgumentError, type BrokerUrl, type QueueOverflow } from '@nori/core';
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
import { bindingMember, Keys, parseBindingMember, reservedQueueName, SEP, toWirePriority } from './keys.js';
import { createRedisClient, disconnectClient } from './client.js';
import { LuaScript } from './lua-script.js';
import { redisSettings, type RedisStoreSettings } from './options.js';
import { classifyRedisError } from './redis-error.js';
import { CLAIM, LAPSED, PROMOTE, PURGE, PUT_LIMITED, READY, RELEASE_MUTEX, RESTORE } from './scripts.js';
import { topicPattern } from './topic-pattern.js';
import { splitEntry } from './unacked-entry.js';
import { BlockingPool } from './blocking-pool.js';
import { RedisFanout } from './redis-fanout.js';
import { EXPIRES_AT, fromWire, LAPSES, toWire } from './wire-envelope.js';

const claimScript = new LuaScript(CLAIM);
const purgeScript = new LuaScript(PURGE);
const promoteScript = new LuaScript(PROMOTE);
const restoreScript = new LuaScript(RESTORE);
const lapsedScript = new LuaScript(LAPSED);
const readyScript = new LuaScript(READY);
const releaseMutexScript = new LuaScript(RELEASE_MUTEX);
const putLimitedScript = new LuaScript(PUT_LIMITED);

interface QueueLimit {
  readonly maxLength: number;
  readonly overflow: QueueOverflow;
}

/**
 * The default `maxBodySize` on Redis, 1 MiB: Redis runs one command at a time, and the claim
 * script copies a message's envelope, so every client of the server waits while a big one is
 * claimed (measured from another client: 0.5–0.8 s for 16 MiB, 3.1–3.3 s for 100 MiB; within the
 * noise at 1 MiB; see the README). Raise it with the transport option where a longer stall is acceptable.
 */
export const REDIS_MAX_BODY_SIZE = 1024 * 1024;

const CAPABILITIES: StoreCapabilities = {
  headersExchange: true,
  priorities: true,
  messageTtl: true,
  queueExpires: true,
  maxLength: true,
  nativeDelay: true,
  redeliversOnCrash: true,
  processLocal: false,
  maxBodySize: REDIS_MAX_BODY_SIZE,
};

/**
 * How long one sweep may hold kombu's `unacked_mutex`. A sweep takes milliseconds; a process killed
 * while holding it must not stop every sweep for kombu's 300 s.
 */
const MUTEX_MS = 5_000;
const SWEEP_LIMIT = 1000;
/** How long a claim's answer to "is anything ready?" stands in for the wait's own READY call. */
const FRESH_MS = 20;
/** Delayed messages promoted per script call (1,000 members stay far below Lua's unpack limit). */
const PROMOTE_BATCH = 1000;

/**
 * Run a MULTI (or pipeline) and fail on the first command the server refused (ioredis resolves
 * with per-command errors). Only for writes that take memory: over maxmemory Redis refuses every
 * command queued in a MULTI, so what frees memory (ack, purge) does without one.
 */
async function exec(tx: ChainableCommander): Promise<unknown[]> {
  const results = await tx.exec();
  if (results === null) throw new ConnectionError('redis discarded the transaction');
  for (const [error] of results) if (error) throw error;
  return results.map(([, value]) => value);
}

function assertQueueName(queue: string): void {
  const reserved = reservedQueueName(queue);
  if (reserved !== undefined) throw new InvalidArgumentError(`queue name refused on Redis: ${reserved}; choose another name`);
}

export class RedisStore implements Store {
  readonly capabilities = CAPABILITIES;
  readonly fanout: RedisFanout;
  readonly #settings: RedisStoreSettings;
  readonly #keys: Keys;
  readonly #client: Redis | Cluster;
  readonly #blocking: BlockingPool;
  /** Queues this process claimed from: swept on a cluster even if another process declared them. */
  readonly #claimedFrom = new Set<string>();
  /**
   * Queue expiry (ms) of queues this process declared: every claim keeps such a queue's use marker
   * (`Keys.inUse`) alive that much longer, and puts and claims its lists (as kombu does); the sweep
   * forgets the queue once the marker lapsed (`forgetExpired`). A publish is no use (RabbitMQ's rule).
   */
  readonly #expires = new Map<string, number>();
  /**
   * Length limits by queue (null: none), read from Redis on a queue's first put (another process
   * may have declared it) and set by this process's declarations.
   */
  readonly #limits = new Map<string, QueueLimit | null>();
  /** The bucket a queue's traffic last came from: where an idle wait blocks. */
  readonly #hotBucket = new Map<string, string>();
  /** What a claim that emptied the queue said READY would (see CLAIM), and when: the next wait's, once. */
  readonly #afterClaim = new Map<string, { readonly ready: number; readonly at: number }>();
  #closed = false;
  /** Whether a connect succeeded: from then on the client reconnects by itself. */
  #connected = false;
  readonly #connectTimeout: number;
  /** The client's last 'error' event: why a connect failed (ioredis rejects with "Connection is closed"). */
  #lastError: Error | undefined;

  constructor(url: BrokerUrl, options: TransportOptions) {
    this.#settings = redisSettings(url, options);
    this.#connectTimeout = options.connectTimeout;
    this.#keys = new Keys(this.#settings.keyPrefix, this.#settings.db, this.#settings.prioritySteps, this.#settings.clusterNodes !== undefined);
    // Until its first connect succeeds the client does not reconnect on its own: connect() reports
    // the failure (ensureConnection retries), and the failed client has ended, so dropping it
    // leaves no reconnect or disconnect timer behind.
    const reconnect = this.#settings.client.retryStrategy;
    const retryStrategy = (times: number): ReturnType<NonNullable<typeof reconnect>> => (this.#connected ? reconnect?.(times) : null);
    this.#client = createRedisClient({ ...this.#settings, client: { ...this.#settings.client, retryStrategy } });
    // Connection errors surface through failed commands (and the transport's error events);
    // ioredis would otherwise print unhandled 'error' events itself.
    this.#client.on('error', (error: Error) => (this.#lastError = error));
    this.fanout = new RedisFanout(this.#client, this.#keys);
    this.#blocking = new BlockingPool(this.#client);
  }

  async connect(): Promise<void> {
    // Through Sentinel (and a cluster), ioredis retries unreachable seeds for ever instead of
    // failing the connect: bound the first connect by the connect timeout ourselves.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#connectTimeout} ms`)), this.#connectTimeout);
    });
    this.#lastError = undefined;
    try {
      await Promise.race([this.#client.connect(), timeout]);
      this.#connected = true;
    } catch (error) {
      disconnectClient(this.#client);
      // The transport names the (masked) URL; this says why: the client's own error (ECONNREFUSED
      // host:port, a refused AUTH) rather than its "Connection is closed.".
      throw classifyRedisError(this.#lastError ?? error, 'connect');
    } finally {
      clearTimeout(timer);
    }
  }

  classifyError(error: unknown, operation: string): Error {
    return classifyRedisError(error, operation);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#blocking.close();
    this.fanout.close();
    if (this.#client.status === 'ready') await this.#client.quit().catch(() => undefined);
    disconnectClient(this.#client);
  }

  // ---- topology ----------------------------------------------------------------------------

  // Declarations write only what is missing: a full Redis (maxmemory, noeviction) refuses every
  // write, and consumers of queues that exist must still start and drain them.

  async declareExchange(exchange: ExchangeSpec): Promise<void> {
    const json = JSON.stringify(exchange);
    if ((await this.#client.hget(this.#keys.exchanges, exchange.name)) !== json) await this.#client.hset(this.#keys.exchanges, exchange.name, json);
  }

  async getExchange(name: string): Promise<ExchangeSpec | undefined> {
    const json = await this.#client.hget(this.#keys.exchanges, name);
    return json ? (JSON.parse(json) as ExchangeSpec) : undefined;
  }

  async deleteExchange(name: string): Promise<void> {
    // Two commands, not MULTI: on a cluster the two keys live in different slots.
    await this.#client.hdel(this.#keys.exchanges, name);
    await this.#client.del(this.#keys.binding(name));
  }

  async declareQueue(queue: QueueSpec): Promise<void> {
    assertQueueName(queue.name);
    if (queue.expires !== undefined) this.#expires.set(queue.name, queue.expires);
    else this.#expires.delete(queue.name);
    if (!(await this.#client.sismember(this.#keys.queues, queue.name))) await this.#client.sadd(this.#keys.queues, queue.name);
    if (queue.maxLength !== undefined) {
      // Stored, so every process's publishes honour it (RabbitMQ keeps it with the queue).
      const limit = `${queue.maxLength} ${queue.overflow ?? 'drop-head'}`;
      if ((await this.#client.get(this.#keys.limit(queue.name))) !== limit) await this.#client.set(this.#keys.limit(queue.name), limit);
      this.#limits.set(queue.name, { maxLength: queue.maxLength, overflow: queue.overflow ?? 'drop-head' });
    } else {
      this.#limits.delete(queue.name);
    }
    if (queue.expires !== undefined) {
      const tx = this.#client.pipeline();
      for (const key of this.#keys.buckets(queue.name)) tx.pexpire(key, queue.expires);
      await exec(tx);
      await this.#markInUse(queue.name, queue.expires);
      if (Number(await this.#client.hget(this.#keys.expiring, queue.name)) !== queue.expires) {
        await this.#client.hset(this.#keys.expiring, queue.name, queue.expires);
      }
    } else if (await this.#client.hexists(this.#keys.expiring, queue.name)) {
      await this.#client.hdel(this.#keys.expiring, queue.name);
      await this.#client.del(this.#keys.inUse(queue.name));
    }
  }

  /** The queue is in use for `expires` ms more: PEXPIRE first (it takes no memory, so a full Redis allows it). */
  async #markInUse(queue: string, expires: number): Promise<void> {
    const key = this.#keys.inUse(queue);
    if (!(await this.#client.pexpire(key, expires))) await this.#client.set(key, '1', 'PX', expires);
  }

  /**
   * Every queue declared with an expiry (by any process) whose use marker lapsed: deleted with its
   * messages, bindings and registration, as RabbitMQ deletes an unused queue past its x-expires.
   */
  async forgetExpired(): Promise<number> {
    let forgotten = 0;
    for (const queue of await this.#client.hkeys(this.#keys.expiring)) {
      if (await this.#client.exists(this.#keys.inUse(queue))) continue;
      await this.deleteQueue(queue);
      forgotten++;
    }
    return forgotten;
  }

  async queueExists(name: string): Promise<boolean> {
    if (await this.#client.sismember(this.#keys.queues, name)) return true;
    return (await this.#client.exists(...this.#keys.buckets(name))) > 0;
  }

  async deleteQueue(name: string): Promise<void> {
    // Bindings first, messages last: a publish routed meanwhile must not bring the queue's list back
    // after its keys are gone (an orphan message no binding or registration leads to).
    const suffix = `${SEP}${name}`;
    for await (const key of this.#scan(this.#keys.bindingPattern)) {
      const stale = (await this.#client.smembers(key)).filter((m) => m.endsWith(suffix));
      if (stale.length > 0) await this.#client.srem(key, ...stale);
    }
    await this.#client.srem(this.#keys.queues, name);
    await this.#client.hdel(this.#keys.expiring, name);
    this.#expires.delete(name);
    this.#limits.delete(name);
    await this.#client.del(...this.#keys.buckets(name), this.#keys.delayed(name), this.#keys.limit(name), this.#keys.inUse(name));
  }

  /** Keys matching a pattern, on every master of a cluster. */
  async *#scan(pattern: string): AsyncGenerator<string> {
    const nodes = this.#client instanceof Cluster ? this.#client.nodes('master') : [this.#client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
        cursor = next;
        yield* keys;
      } while (cursor !== '0');
    }
  }

  async #member(exchange: string, binding: StoredBinding): Promise<string> {
    const type = (await this.getExchange(exchange))?.type;
    const pattern = type === 'topic' ? topicPattern(binding.routingKey) : Object.keys(binding.arguments).length > 0 ? JSON.stringify(binding.arguments) : '';
    return bindingMember(binding.routingKey, pattern, binding.queue);
  }

  async bind(exchange: string, binding: StoredBinding): Promise<void> {
    const key = this.#keys.binding(exchange);
    const member = await this.#member(exchange, binding);
    if (!(await this.#client.sismember(key, member))) await this.#client.sadd(key, member);
  }

  async unbind(exchange: string, binding: StoredBinding): Promise<void> {
    await this.#client.srem(this.#keys.binding(exchange), await this.#member(exchange, binding));
  }

  async bindings(exchange: string): Promise<StoredBinding[]> {
    const members = await this.#client.smembers(this.#keys.binding(exchange));
    return members.map((member) => {
      const { routingKey, pattern, queue } = parseBindingMember(member);
      const args = pattern.startsWith('{') ? (JSON.parse(pattern) as Record<string, unknown>) : {};
      return { queue, routingKey, arguments: args };
    });
  }

  // ---- messages ----------------------------------------------------------------------------

  /** The bucket a message of this nori priority lives in: the plain list when it has none. */
  #bucketOf(queue: string, priority: number | undefined): string {
    return this.#keys.bucket(queue, this.#keys.stepFor(priority === undefined ? 0 : toWirePriority(priority)));
  }

  put(queue: string, envelope: Envelope, options: PutOptions): Promise<PutReport | void> {
    return this.putMany(queue, [{ envelope, options }]);
  }

  async #limitOf(queue: string): Promise<QueueLimit | null> {
    const stored = await this.#client.get(this.#keys.limit(queue));
    const [max, overflow] = stored?.split(' ') ?? [];
    const limit = stored ? { maxLength: Number(max), overflow: overflow === 'reject-publish' ? ('reject-publish' as const) : ('drop-head' as const) } : null;
    this.#limits.set(queue, limit);
    return limit;
  }

  /** The publishes of one tick for one queue: one LPUSH per bucket, one ZADD for the delayed ones. */
  async putMany(queue: string, items: ReadonlyArray<{ envelope: Envelope; options: PutOptions }>): Promise<PutReport | void> {
    assertQueueName(queue);
    // `null` is a cached "no limit": only a queue never seen is read.
    const limit = this.#limits.has(queue) ? this.#limits.get(queue) : await this.#limitOf(queue);
    if (limit) return this.#putLimited(queue, limit, items);
    const now = Date.now();
    // The texts for each bucket, by its index in `buckets`.
    const ready: string[][] = [];
    const delayed: Array<number | string> = [];
    for (const { envelope, options } of items) {
      const { text, wire } = toWire(envelope, options.priority, options.expiresAt);
      const bucket = this.#keys.bucketIndex(wire);
      if (options.readyAt !== undefined && options.readyAt > now) delayed.push(options.readyAt, `${bucket + 1}|${text}`);
      else (ready[bucket] ??= []).push(text);
    }
    const buckets = this.#keys.buckets(queue);
    const expires = this.#expires.get(queue);
    const only = ready.length === 1 && delayed.length === 0 && expires === undefined ? ready[0] : undefined;
    // The usual publish, ready messages without a priority into a queue without an expiry: one
    // LPUSH, without MULTI and EXEC around it (two commands and replies fewer a publish).
    if (only) {
      await this.#client.lpush(buckets[0] as string, ...only);
      return;
    }
    const tx = this.#client.multi();
    ready.forEach((texts, bucket) => tx.lpush(buckets[bucket] as string, ...texts));
    if (delayed.length > 0) tx.zadd(this.#keys.delayed(queue), ...delayed);
    if (expires !== undefined) for (const key of buckets) tx.pexpire(key, expires);
    await exec(tx);
  }

  /** A queue with a length limit: the push, the count and the overflow in one script. */
  async #putLimited(queue: string, limit: QueueLimit, items: ReadonlyArray<{ envelope: Envelope; options: PutOptions }>): Promise<PutReport> {
    const now = Date.now();
    const args: Array<string | number> = [limit.maxLength, limit.overflow, this.#expires.get(queue) ?? 0];
    for (const { envelope, options } of items) {
      const { text, wire } = toWire(envelope, options.priority, options.expiresAt);
      const readyAt = options.readyAt !== undefined && options.readyAt > now ? options.readyAt : 0;
      args.push(readyAt, this.#keys.bucketIndex(wire) + 1, text);
    }
    const keys = [...this.#keys.buckets(queue), this.#keys.delayed(queue)];
    const [refused, dropped] = (await putLimitedScript.run(this.#client, keys, args)) as [number[], string[]];
    return { refused, dropped: dropped.flatMap((text) => this.#dropped(text)) };
  }

  /**
   * A dropped head as the transport dead-letters it: nori's priority, without this copy's expiry.
   * An unreadable one (a foreign peer's) is gone already and has no envelope to dead-letter.
   */
  #dropped(text: string): Envelope[] {
    let envelope: Envelope;
    try {
      envelope = fromWire(text);
    } catch {
      return [];
    }
    delete envelope.properties[EXPIRES_AT];
    return [envelope];
  }

  async claim(queue: string, max: number, leaseMs: number): Promise<Array<Claimed | Unreadable>> {
    assertQueueName(queue);
    const score = (Date.now() + leaseMs - this.#settings.visibilityTimeout) / 1000;
    if (this.#keys.cluster) this.#claimedFrom.add(queue);
    const keys = [...this.#keys.buckets(queue), this.#keys.unacked(queue), this.#keys.unackedIndex(queue), this.#keys.delayed(queue)];
    const expires = this.#expires.get(queue);
    const args = [max, Date.now(), score, JSON.stringify(queue), expires ?? 0, randomUUID()];
    // A claim is a use, found or not: an idle consumer claims every bucketPollMs, so its queue stays.
    const [out] = await Promise.all([claimScript.run(this.#client, keys, args) as Promise<string[]>, expires !== undefined && this.#markInUse(queue, expires)]);
    if (out.length % 2 === 1) this.#afterClaim.set(queue, { ready: Number(out.pop()), at: Date.now() });
    else this.#afterClaim.delete(queue);
    const claimed: Array<Claimed | Unreadable> = [];
    let last: Envelope | undefined;
    for (let i = 0; i < out.length; i += 2) {
      const token = out[i] as string;
      const text = out[i + 1] as string;
      let envelope: Envelope;
      try {
        envelope = fromWire(text);
      } catch (error) {
        claimed.push({ queue, token, text, error: error as DecodeError });
        continue;
      }
      const { [EXPIRES_AT]: expiresAt, [LAPSES]: lapses } = envelope.properties;
      const item: { -readonly [K in keyof Claimed]: Claimed[K] } = { queue, envelope, tag: envelope.properties.delivery_tag, token };
      // The expiry and the lapses are this copy's only: a dead-lettered copy must not carry them to its next queue.
      if (expiresAt !== undefined) {
        delete envelope.properties[EXPIRES_AT];
        if (typeof expiresAt === 'number') item.expiresAt = expiresAt;
      }
      if (lapses !== undefined) {
        delete envelope.properties[LAPSES];
        if (typeof lapses === 'number') item.lapses = lapses;
      }
      claimed.push(item);
      last = envelope;
    }
    if (last) this.#hotBucket.set(queue, this.#bucketOf(queue, last.properties.priority));
    return claimed;
  }

  async wait(queues: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || queues.length === 0) return;
    const ready = this.#readyAfterClaim(queues) ?? (await this.#readiness(queues));
    if (ready === 0) return;
    // BLMOVE watches one key and leaves the list as it was: block on the bucket the traffic comes
    // from, and look at the other buckets (and due delayed messages) at least every bucketPollMs.
    let block = Math.min(timeoutMs, this.#settings.bucketPollMs);
    if (ready > 0) block = Math.min(block, ready);
    const queue = queues[0] as string;
    // Until traffic shows otherwise, expect messages without a priority (kombu's plain list).
    const key = this.#hotBucket.get(queue) ?? this.#bucketOf(queue, undefined);
    await this.#blocking.blockOn(key, Math.max(0.01, block / 1000), signal);
  }

  /**
   * One queue whose claim just came back short: its answer stands in for READY's (a message
   * published since lands in the bucket the wait blocks on, which BLMOVE sees at once, as it does
   * after READY). Used once, and only fresh: a wait that comes later asks Redis.
   */
  #readyAfterClaim(queues: readonly string[]): number | undefined {
    if (queues.length !== 1) return undefined;
    const queue = queues[0] as string;
    const known = this.#afterClaim.get(queue);
    if (!known) return undefined;
    this.#afterClaim.delete(queue);
    return Date.now() - known.at <= FRESH_MS ? known.ready : undefined;
  }

  /**
   * 0 when a claim on one of the queues can succeed now, else the ms until the first delayed
   * message is due (-1: none is). One script call, or one per queue on a cluster, whose script
   * calls must stay within one slot.
   */
  async #readiness(queues: readonly string[]): Promise<number> {
    const groups = this.#keys.cluster ? queues.map((q) => [q]) : [queues];
    let soonest = -1;
    for (const group of groups) {
      const buckets = group.flatMap((q) => this.#keys.buckets(q));
      const ready = Number(await readyScript.run(this.#client, [...buckets, ...group.map((q) => this.#keys.delayed(q))], [buckets.length, Date.now()]));
      if (ready === 0) return 0;
      if (ready > 0 && (soonest < 0 || ready < soonest)) soonest = ready;
    }
    return soonest;
  }

  async ack(queue: string, tokens: readonly string[]): Promise<number> {
    if (tokens.length === 0) return 0;
    // Two plain commands, pipelined, not a MULTI (refused while Redis is over maxmemory) nor a
    // script (slower on the consume path). An index entry left by a drop in between is removed by
    // the sweep, which drops index entries whose claim is gone.
    const [held] = await Promise.all([this.#client.hdel(this.#keys.unacked(queue), ...tokens), this.#client.zrem(this.#keys.unackedIndex(queue), ...tokens)]);
    return held;
  }

  async renew(queue: string, tokens: readonly string[], leaseMs: number): Promise<void> {
    if (tokens.length === 0) return;
    const score = (Date.now() + leaseMs - this.#settings.visibilityTimeout) / 1000;
    await this.#client.zadd(this.#keys.unackedIndex(queue), 'XX', ...tokens.flatMap((token) => [score, token]));
  }

  async restore(queue: string, tokens: readonly string[], position: RestorePosition): Promise<number> {
    if (tokens.length === 0) return 0;
    const entries = await this.#client.hmget(this.#keys.unacked(queue), ...tokens);
    return this.#restoreEntries(
      queue,
      tokens.map((token, i) => [token, entries[i] ?? null] as const),
      position,
      undefined,
    );
  }

  /**
   * Put entries read from `unacked` back into `queue`, marked redelivered, each into the bucket of
   * its priority; only those still held (and, with a cutoff, still lapsed) when the script runs.
   * With a cutoff (the sweep) each counts one more lapse. The envelope is re-encoded only when it
   * changes (an unreadable one goes back as it was, and is dead-lettered at its next claim).
   */
  async #restoreEntries(
    queue: string,
    entries: ReadonlyArray<readonly [string, string | null]>,
    position: RestorePosition,
    cutoff: number | undefined,
  ): Promise<number> {
    // RPUSH of several leaves the last one first in line: push 'front' entries in reverse.
    const ordered = position === 'front' ? [...entries].reverse() : entries;
    const args: Array<string | number> = [position, cutoff ?? ''];
    for (const [token, text] of ordered) {
      if (text === null) continue;
      const envelope = splitEntry(text)?.envelope ?? text;
      let redelivered = envelope;
      let wire = 0;
      try {
        const parsed = parseEnvelope(envelope);
        const properties = parsed.properties;
        wire = Number(properties.priority) || 0;
        if (cutoff !== undefined) properties[LAPSES] = (Number(properties[LAPSES]) || 0) + 1;
        if (properties.delivery_info.redelivered !== true || cutoff !== undefined) {
          properties.delivery_info.redelivered = true;
          redelivered = JSON.stringify(parsed);
        }
      } catch {
        // Not a readable envelope: back as it was, into the plain list.
      }
      args.push(token, this.#keys.bucketIndex(wire) + 1, redelivered);
    }
    if (args.length === 2) return 0;
    return Number(await restoreScript.run(this.#client, [this.#keys.unacked(queue), this.#keys.unackedIndex(queue), ...this.#keys.buckets(queue)], args));
  }

  async restoreLapsed(): Promise<number> {
    const token = randomUUID();
    if ((await this.#client.set(this.#keys.unackedMutex, token, 'PX', MUTEX_MS, 'NX')) !== 'OK') return 0;
    try {
      const cutoff = (Date.now() - this.#settings.visibilityTimeout) / 1000;
      // kombu's one in-flight pair for every queue; on a cluster, each known queue's own.
      const scopes = this.#keys.cluster ? new Set([...(await this.#client.smembers(this.#keys.queues)), ...this.#claimedFrom]) : [''];
      let restored = 0;
      for (const scope of scopes) {
        const keys = [this.#keys.unacked(scope), this.#keys.unackedIndex(scope)];
        const pairs = (await lapsedScript.run(this.#client, keys, [cutoff, SWEEP_LIMIT])) as string[];
        // Entries routed through a named exchange are kombu's own to restore (it re-routes them).
        const byQueue = new Map<string, Array<readonly [string, string]>>();
        for (let i = 0; i < pairs.length; i += 2) {
          const [key, text] = [pairs[i] as string, pairs[i + 1] as string];
          const entry = splitEntry(text);
          if (!entry || entry.exchange !== '') continue;
          const list = byQueue.get(entry.routingKey);
          if (list) list.push([key, text]);
          else byQueue.set(entry.routingKey, [[key, text]]);
        }
        for (const [queue, entries] of byQueue) restored += await this.#restoreEntries(queue, entries, 'front', cutoff);
      }
      return restored;
    } finally {
      await releaseMutexScript.run(this.#client, [this.#keys.unackedMutex], [token]);
    }
  }

  async purge(queue: string): Promise<number> {
    return Number(await purgeScript.run(this.#client, [...this.#keys.buckets(queue), this.#keys.delayed(queue)], []));
  }

  /** Every delayed message of the queue to its front, soonest due first, 1,000 a script call. */
  async promoteDelayed(queue: string): Promise<number> {
    const keys = [...this.#keys.buckets(queue), this.#keys.delayed(queue)];
    let moved = 0;
    for (;;) {
      const n = Number(await promoteScript.run(this.#client, keys, [PROMOTE_BATCH]));
      moved += n;
      if (n < PROMOTE_BATCH) return moved;
    }
  }

  async size(queue: string): Promise<number> {
    const tx = this.#client.pipeline();
    for (const key of this.#keys.buckets(queue)) tx.llen(key);
    const results = await exec(tx);
    return results.reduce((sum: number, n) => sum + Number(n), 0);
  }
}

export const createRedisStore = (url: BrokerUrl, options: TransportOptions): Store => new RedisStore(url, options);

/** Where the lease keeper's thread finds `createRedisStore`. */
export const redisStoreModule: StoreModule = { url: import.meta.url, exportName: 'createRedisStore' };
