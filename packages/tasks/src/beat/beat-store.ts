/**
 * Beat's shared state on Redis: the leader lock (`SET NX PX`, renewed only by its holder), each
 * entry's last due time sent (`last_run` hash, only ever moved forward), and the tick a leader is
 * sending (`pending` hash) so that a leader that dies between marking and committing is finished
 * by the next one with the same task id.
 */
import type { Logger } from '@nori/core';
import { connectRedis, type RedisHandle } from '../protocol/redis-client.js';

/** Renew the lock if this process holds it. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
/** Mark a tick as being sent, only while holding the lock (a deposed leader sends nothing). */
const BEGIN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;
/** The tick is sent: last_run moves forward to it, the mark goes. */
const COMMIT = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Clients = RedisHandle<'renew' | 'begin' | 'commit' | 'release'>;

/** Where beat keeps its leader lock and last-run state. */
export interface BeatStore {
  /** Take the lock, or keep it if held: true while `me` leads. */
  lead(me: string, ttl: number): Promise<boolean>;
  lastRuns(): Promise<Map<string, number>>;
  pending(): Promise<Map<string, number>>;
  /** Marks a tick as being sent; false when `me` no longer leads. */
  begin(me: string, entry: string, due: number): Promise<boolean>;
  /** The tick is sent: last_run moves forward to it, the mark goes. */
  commit(entry: string, due: number): Promise<void>;
  /** Gives the lock up (a clean stop). */
  resign(me: string): Promise<void>;
  /** Deletes the lock and state. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export class RedisBeatStore implements BeatStore {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #keys: { lock: string; lastRun: string; pending: string };
  #clients: Promise<Clients> | undefined;

  constructor(url: string, name: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
    this.#keys = { lock: `nori-beat:${name}:lock`, lastRun: `nori-beat:${name}:last_run`, pending: `nori-beat:${name}:pending` };
  }

  #connect(): Promise<Clients> {
    this.#clients ??= connectRedis(this.#url, this.#logger, { renew: RENEW, begin: BEGIN, commit: COMMIT, release: RELEASE });
    return this.#clients;
  }

  /** Take the lock, or keep it if held: true while this process leads. */
  async lead(me: string, ttl: number): Promise<boolean> {
    const c = await this.#connect();
    const lock = c.prefix + this.#keys.lock;
    if (Number(await c.scripts.renew.run(c.client, [lock], [me, ttl])) === 1) return true;
    return (await c.client.set(lock, me, 'PX', ttl, 'NX')) === 'OK';
  }

  async lastRuns(): Promise<Map<string, number>> {
    const c = await this.#connect();
    return new Map(Object.entries(await c.client.hgetall(c.prefix + this.#keys.lastRun)).map(([k, v]) => [k, Number(v)]));
  }

  async pending(): Promise<Map<string, number>> {
    const c = await this.#connect();
    return new Map(Object.entries(await c.client.hgetall(c.prefix + this.#keys.pending)).map(([k, v]) => [k, Number(v)]));
  }

  /** Marks a tick as being sent; false when this process no longer leads. */
  async begin(me: string, entry: string, due: number): Promise<boolean> {
    const c = await this.#connect();
    return Number(await c.scripts.begin.run(c.client, [c.prefix + this.#keys.lock, c.prefix + this.#keys.pending], [me, entry, String(due)])) === 1;
  }

  async commit(entry: string, due: number): Promise<void> {
    const c = await this.#connect();
    await c.scripts.commit.run(c.client, [c.prefix + this.#keys.lastRun, c.prefix + this.#keys.pending], [entry, String(due)]);
  }

  /** Gives the lock up (a clean stop), so another process leads at once. */
  async resign(me: string): Promise<void> {
    const c = await this.#connect();
    await c.scripts.release.run(c.client, [c.prefix + this.#keys.lock], [me]);
  }

  /** Deletes every key of this beat (tests, or a schedule retired for good). */
  async clear(): Promise<void> {
    const c = await this.#connect();
    await c.client.del(c.prefix + this.#keys.lock, c.prefix + this.#keys.lastRun, c.prefix + this.#keys.pending);
  }

  async close(): Promise<void> {
    const clients = this.#clients;
    this.#clients = undefined;
    if (clients) (await clients).client.disconnect();
  }
}
