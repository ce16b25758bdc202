/**
 * celery_once's Redis lock: `SET key <task id> NX PX timeout`, so the lock names the task holding
 * it and expires by itself; released only by that task (compare-and-delete in one script).
 */
import type { Logger } from '@nori/core';
import { connectRedis, type RedisHandle } from '../protocol/redis-client.js';

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export type LockAttempt = { acquired: true } | { acquired: false; holder: string | null; remaining: number };

export class RedisOnceLock {
  readonly #url: string;
  readonly #logger: Logger;
  #clients: Promise<RedisHandle<'release'>> | undefined;

  constructor(url: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
  }

  #connect(): Promise<RedisHandle<'release'>> {
    this.#clients ??= connectRedis(this.#url, this.#logger, { release: RELEASE });
    return this.#clients;
  }

  async acquire(key: string, taskId: string, timeout: number): Promise<LockAttempt> {
    const { client, prefix } = await this.#connect();
    if ((await client.set(prefix + key, taskId, 'PX', timeout, 'NX')) === 'OK') return { acquired: true };
    const [[, holder], [, remaining]] = ((await client
      .multi()
      .get(prefix + key)
      .pttl(prefix + key)
      .exec()) ?? []) as [[unknown, string | null], [unknown, number]];
    return { acquired: false, holder, remaining: Math.max(0, Number(remaining)) };
  }

  async release(key: string, taskId: string): Promise<void> {
    const { client, prefix, scripts } = await this.#connect();
    await scripts.release.run(client, [prefix + key], [taskId]);
  }

  async close(): Promise<void> {
    const clients = this.#clients;
    this.#clients = undefined;
    if (clients) (await clients).client.disconnect();
  }
}
