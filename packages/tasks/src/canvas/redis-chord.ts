/**
 * Chord counting on the Redis result backend exactly as Celery's RedisBackend keeps it
 * (celery/backends/redis.py `on_chord_part_return`), so Python and nori header tasks count into the
 * same chord: `celery-taskset-meta-<gid>.s` holds the header size (set by the caller), each header
 * task adds `[1, id, state, result]` to the sorted set `.j` scored by its group index and counts it
 * in the same MULTI; the one that brings the count to size (+ `.t`) gets every part, in header
 * order, and the keys are deleted. No chord_unlock task, no polling.
 */
import type { Logger } from '@nori/core';
import { connectRedis, type RedisHandle } from '../protocol/redis-client.js';
import { encodeException } from '../protocol/exception.js';

/** One header task's outcome. */
export interface ChordPart {
  taskId: string;
  state: string;
  /** The value (SUCCESS) or Celery's exception dict (FAILURE). */
  result: unknown;
}

export const GROUP_KEY_PREFIX = 'celery-taskset-meta-';

export class RedisChordStore {
  readonly #url: string;
  readonly #expires: number;
  readonly #logger: Logger;
  #client: Promise<RedisHandle> | undefined;

  constructor(url: string, expires: number, logger: Logger) {
    this.#url = url;
    this.#expires = expires;
    this.#logger = logger;
  }

  #connect(): Promise<RedisHandle> {
    this.#client ??= connectRedis(this.#url, this.#logger);
    return this.#client;
  }

  /** Celery's set_chord_size: before the header is sent. */
  async setSize(groupId: string, size: number): Promise<void> {
    const { client, prefix } = await this.#connect();
    const key = `${prefix}${GROUP_KEY_PREFIX}${groupId}.s`;
    if (this.#expires > 0) await client.set(key, String(size), 'PX', this.#expires);
    else await client.set(key, String(size));
  }

  /** A header task ended: every part in header order when it was the last one, else undefined. */
  async partReturn(groupId: string, groupIndex: number | null, part: ChordPart): Promise<ChordPart[] | undefined> {
    const { client, prefix } = await this.#connect();
    const key = (suffix: string): string => `${prefix}${GROUP_KEY_PREFIX}${groupId}${suffix}`;
    const [j, t, s] = [key('.j'), key('.t'), key('.s')];
    const result = part.state === 'SUCCESS' ? part.result : encodeException(part.result);
    const tx = client
      .multi()
      .zadd(j, groupIndex === null ? '+inf' : String(groupIndex), JSON.stringify([1, part.taskId, part.state, result]))
      .zcount(j, '-inf', '+inf')
      .get(t)
      .get(s);
    if (this.#expires > 0) tx.pexpire(j, this.#expires).pexpire(t, this.#expires).pexpire(s, this.#expires);
    const replies = (await tx.exec()) ?? [];
    const [ready, diff, size] = [Number(replies[1]?.[1]), Number(replies[2]?.[1] ?? 0), replies[3]?.[1]];
    if (size === null || size === undefined || ready !== Number(size) + diff) return undefined;
    const members = await client.zrange(j, '0', '-1'); // ioredis 6 types the range as strings
    await client.del(j, t, s);
    return members.map((m) => {
      const [, taskId, state, value] = JSON.parse(m) as [number, string, string, unknown];
      return { taskId, state, result: value };
    });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) (await client).client.disconnect();
  }
}
