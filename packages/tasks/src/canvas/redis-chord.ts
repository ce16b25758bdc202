/**
 * Chord counting on the Redis result backend in Celery's layout (celery/backends/redis.py
 * `on_chord_part_return`), so Python and nori header tasks count into the same chord:
 * `celery-taskset-meta-<gid>.s` holds the header size (set by the caller), each header task adds
 * `[1, id, state, result]` to the sorted set `.j` scored by its group index; the one that brings
 * the count to size (+ `.t`) gets every part, in header order, sends the body, and only then are
 * the keys deleted (as Celery does: a kill before the body is sent re-runs the part, which
 * completes the chord again, rather than finding the counter gone). No chord_unlock, no polling.
 *
 * Idempotent for nori's parts, whose messages are acked only after they are counted: a re-run
 * part (its worker killed after counting, before its ack) is recognised by its task id in `.ids`
 * and not counted twice; `.done` names the part that completes the chord, so only it (or its own
 * re-run) sends the body, however many re-runs see the chord complete.
 */
import type { Logger } from '@nori/core';
import { encodeException } from '../protocol/exception.js';
import { connectRedis, type RedisHandle } from '../protocol/redis-client.js';

/** One header task's outcome. */
export interface ChordPart {
  taskId: string;
  state: string;
  /** The value (SUCCESS) or Celery's exception dict (FAILURE). */
  result: unknown;
}

export const GROUP_KEY_PREFIX = 'celery-taskset-meta-';

/**
 * KEYS: .j .t .s .ids .done; ARGV: task id, group index ('+inf' when none), the part as Celery
 * encodes it, expiry in ms (0 = none). Returns the parts (in header order) when this task
 * completes the chord, else nil.
 */
const PART_RETURN = `
local j, t, s, ids, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, index, part, px = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('SADD', ids, id) == 1 then redis.call('ZADD', j, index, part) end
if px > 0 then
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, px) end
end
local size = redis.call('GET', s)
if not size then return nil end
local total = tonumber(size) + tonumber(redis.call('GET', t) or '0')
if redis.call('ZCARD', j) < total then return nil end
local completer = redis.call('GET', done)
if completer and completer ~= id then return nil end
if px > 0 then redis.call('SET', done, id, 'PX', px) else redis.call('SET', done, id) end
return redis.call('ZRANGE', j, 0, -1)
`;

export class RedisChordStore {
  readonly #url: string;
  readonly #expires: number;
  readonly #logger: Logger;
  #client: Promise<RedisHandle<'partReturn'>> | undefined;

  constructor(url: string, expires: number, logger: Logger) {
    this.#url = url;
    this.#expires = expires;
    this.#logger = logger;
  }

  #connect(): Promise<RedisHandle<'partReturn'>> {
    this.#client ??= connectRedis(this.#url, this.#logger, { partReturn: PART_RETURN });
    return this.#client;
  }

  #keys(prefix: string, groupId: string): string[] {
    return ['.j', '.t', '.s', '.ids', '.done'].map((suffix) => `${prefix}${GROUP_KEY_PREFIX}${groupId}${suffix}`);
  }

  /** Celery's set_chord_size: before the header is sent. */
  async setSize(groupId: string, size: number): Promise<void> {
    const { client, prefix } = await this.#connect();
    const key = `${prefix}${GROUP_KEY_PREFIX}${groupId}.s`;
    if (this.#expires > 0) await client.set(key, String(size), 'PX', this.#expires);
    else await client.set(key, String(size));
  }

  /** A header task ended for good: every part in header order when it completes the chord (send the body, then `clear`), else undefined. */
  async partReturn(groupId: string, groupIndex: number | null, part: ChordPart): Promise<ChordPart[] | undefined> {
    const { client, prefix, scripts } = await this.#connect();
    const result = part.state === 'SUCCESS' ? part.result : encodeException(part.result);
    const members = (await scripts.partReturn.run(client, this.#keys(prefix, groupId), [
      part.taskId,
      groupIndex === null ? '+inf' : String(groupIndex),
      JSON.stringify([1, part.taskId, part.state, result]),
      Math.max(0, Math.round(this.#expires)),
    ])) as string[] | null;
    if (!members) return undefined;
    return members.map((m) => {
      const [, taskId, state, value] = JSON.parse(m) as [number, string, string, unknown];
      return { taskId, state, result: value };
    });
  }

  /** The chord's body was sent (or its failure stored): its counter goes. */
  async clear(groupId: string): Promise<void> {
    const { client, prefix } = await this.#connect();
    await client.del(...this.#keys(prefix, groupId));
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) (await client).client.disconnect();
  }
}
