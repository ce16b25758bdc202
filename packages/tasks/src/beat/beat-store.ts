/**
 * Beat's shared state on Redis: the leader lock (`SET NX PX`, renewed only by its holder), each
 * entry's last due time sent (`last_run` hash, only ever moved forward), and the tick a leader is
 * sending (`pending` hash) so that a leader that dies between marking and committing is finished
 * by the next one with the same task id. The schedules changed at run time: `entries` (name →
 * stored entry JSON), `disabled` (a set of names), `version` (moved on by every change, which is
 * all the leader reads each tick), `changes` (the last 100, newest first) and `code` (the code
 * entries of the last leader, for `list` elsewhere); each change is one script, so it is whole.
 */
import type { Logger } from '@nori/core';
import { connectRedis, type RedisHandle } from '../protocol/redis-client.js';
import { CHANGES_KEPT, type CodeEntry, type ScheduleChange, type StoredEntry, type StoredSchedules } from './stored-entry.js';

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

/** Write an entry (and maybe its on/off), log the change. KEYS: entries, disabled, version, changes. */
const UPSERT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then redis.call('SREM', KEYS[2], ARGV[1]) elseif ARGV[3] == '0' then redis.call('SADD', KEYS[2], ARGV[1]) end
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
return redis.call('INCR', KEYS[3])
`;
/**
 * Remove a stored entry; its last run, mark and on/off go too unless a code entry has the name
 * (it comes back). KEYS: entries, disabled, version, changes, code, last_run, pending.
 */
const REMOVE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[6], ARGV[1])
  redis.call('HDEL', KEYS[7], ARGV[1])
end
redis.call('LPUSH', KEYS[4], ARGV[2])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[3]) - 1)
redis.call('INCR', KEYS[3])
return 1
`;
/** Turn a stored or code entry on ('1') or off ('0'). KEYS: entries, disabled, version, changes, code. */
const SET_ENABLED = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HEXISTS', KEYS[5], ARGV[1]) == 0 then return 0 end
if ARGV[2] == '1' then redis.call('SREM', KEYS[2], ARGV[1]) else redis.call('SADD', KEYS[2], ARGV[1]) end
redis.call('LPUSH', KEYS[4], ARGV[3])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
redis.call('INCR', KEYS[3])
return 1
`;

type KeyName = 'lock' | 'lastRun' | 'pending' | 'entries' | 'disabled' | 'version' | 'changes' | 'code';
type Clients = RedisHandle<'renew' | 'begin' | 'commit' | 'release' | 'upsert' | 'remove' | 'setEnabled'>;

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
  /** Moves on with every change of the stored schedules (all a leader reads each tick). */
  schedulesVersion(): Promise<number>;
  schedules(): Promise<StoredSchedules>;
  /** Writes an entry, new or replacing one; `enabled` undefined leaves its on/off as it was. */
  upsert(name: string, entry: StoredEntry, enabled: boolean | undefined, change: ScheduleChange): Promise<void>;
  /** False when no entry of that name is stored. */
  remove(name: string, change: ScheduleChange): Promise<boolean>;
  /** False when no stored or code entry has that name. */
  setEnabled(name: string, enabled: boolean, change: ScheduleChange): Promise<boolean>;
  /** The last changes, newest first. */
  changes(limit: number): Promise<ScheduleChange[]>;
  /** The leader's code entries, replacing those of the previous leader. */
  publishCode(entries: ReadonlyMap<string, CodeEntry>): Promise<void>;
  /** Deletes the lock and state. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export class RedisBeatStore implements BeatStore {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #keys: Record<KeyName, string>;
  #clients: Promise<Clients> | undefined;

  constructor(url: string, name: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
    const key = (k: string): string => `nori-beat:${name}:${k}`;
    this.#keys = {
      lock: key('lock'),
      lastRun: key('last_run'),
      pending: key('pending'),
      entries: key('entries'),
      disabled: key('disabled'),
      version: key('version'),
      changes: key('changes'),
      code: key('code'),
    };
  }

  #connect(): Promise<Clients> {
    this.#clients ??= connectRedis(this.#url, this.#logger, {
      renew: RENEW,
      begin: BEGIN,
      commit: COMMIT,
      release: RELEASE,
      upsert: UPSERT,
      remove: REMOVE,
      setEnabled: SET_ENABLED,
    });
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

  async schedulesVersion(): Promise<number> {
    const c = await this.#connect();
    return Number(await c.client.get(c.prefix + this.#keys.version));
  }

  async schedules(): Promise<StoredSchedules> {
    const c = await this.#connect();
    const k = (key: KeyName): string => c.prefix + this.#keys[key];
    const read = await c.client.multi().get(k('version')).hgetall(k('entries')).smembers(k('disabled')).hgetall(k('code')).exec();
    const [[, version], [, entries], [, disabled], [, code]] = read as [
      [null, string | null],
      [null, Record<string, string>],
      [null, string[]],
      [null, Record<string, string>],
    ];
    return {
      version: Number(version),
      entries: new Map(Object.entries(entries).map(([n, v]) => [n, JSON.parse(v) as StoredEntry])),
      disabled: new Set(disabled),
      code: new Map(Object.entries(code).map(([n, v]) => [n, JSON.parse(v) as CodeEntry])),
    };
  }

  async upsert(name: string, entry: StoredEntry, enabled: boolean | undefined, change: ScheduleChange): Promise<void> {
    const c = await this.#connect();
    const keys = [this.#keys.entries, this.#keys.disabled, this.#keys.version, this.#keys.changes].map((key) => c.prefix + key);
    const on = enabled === undefined ? '' : enabled ? '1' : '0';
    await c.scripts.upsert.run(c.client, keys, [name, JSON.stringify(entry), on, JSON.stringify(change), CHANGES_KEPT]);
  }

  async remove(name: string, change: ScheduleChange): Promise<boolean> {
    const c = await this.#connect();
    const { entries, disabled, version, changes, code, lastRun, pending } = this.#keys;
    const keys = [entries, disabled, version, changes, code, lastRun, pending].map((key) => c.prefix + key);
    return Number(await c.scripts.remove.run(c.client, keys, [name, JSON.stringify(change), CHANGES_KEPT])) === 1;
  }

  async setEnabled(name: string, enabled: boolean, change: ScheduleChange): Promise<boolean> {
    const c = await this.#connect();
    const { entries, disabled, version, changes, code } = this.#keys;
    const keys = [entries, disabled, version, changes, code].map((key) => c.prefix + key);
    return Number(await c.scripts.setEnabled.run(c.client, keys, [name, enabled ? '1' : '0', JSON.stringify(change), CHANGES_KEPT])) === 1;
  }

  async changes(limit: number): Promise<ScheduleChange[]> {
    const c = await this.#connect();
    return (await c.client.lrange(c.prefix + this.#keys.changes, 0, limit - 1)).map((v) => JSON.parse(v) as ScheduleChange);
  }

  async publishCode(entries: ReadonlyMap<string, CodeEntry>): Promise<void> {
    const c = await this.#connect();
    const tx = c.client.multi().del(c.prefix + this.#keys.code);
    if (entries.size > 0) tx.hset(c.prefix + this.#keys.code, Object.fromEntries([...entries].map(([n, e]) => [n, JSON.stringify(e)])));
    await tx.exec();
  }

  /** Deletes every key of this beat (tests, or a schedule retired for good). */
  async clear(): Promise<void> {
    const c = await this.#connect();
    await c.client.del(...Object.values(this.#keys).map((key) => c.prefix + key));
  }

  async close(): Promise<void> {
    const clients = this.#clients;
    this.#clients = undefined;
    if (clients) (await clients).client.disconnect();
  }
}
