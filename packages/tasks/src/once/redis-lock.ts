/**
 * celery_once's Redis lock: `SET key <task id> NX PX timeout`, so the lock names the task holding
 * it and expires by itself; released only by that task (compare-and-delete in one script).
 */
import { parseUrl, type Logger } from '@nori/core';
import type { createRedisClient, LuaScript } from '@nori/redis';
import { importOptional } from '../backends/optional-package.js';

type Client = ReturnType<typeof createRedisClient>;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export type LockAttempt = { acquired: true } | { acquired: false; holder: string | null; remaining: number };

export class RedisOnceLock {
  readonly #url: string;
  readonly #logger: Logger;
  #clients: Promise<{ client: Client; release: LuaScript; prefix: string }> | undefined;

  constructor(url: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
  }

  #connect(): Promise<{ client: Client; release: LuaScript; prefix: string }> {
    const url = parseUrl(this.#url);
    this.#clients ??= importOptional(url.scheme, '@nori/redis', () => import('@nori/redis')).then(({ redisSettings, createRedisClient, LuaScript }) => {
      const settings = redisSettings(url, { transportOptions: { ...url.query }, logger: this.#logger, connectTimeout: 4000 });
      const client = createRedisClient(settings);
      client.on('error', () => undefined);
      return { client, release: new LuaScript(RELEASE), prefix: settings.keyPrefix };
    });
    return this.#clients;
  }

  async acquire(key: string, taskId: string, timeout: number): Promise<LockAttempt> {
    const { client, prefix } = await this.#connect();
    if ((await client.set(prefix + key, taskId, 'PX', timeout, 'NX')) === 'OK') return { acquired: true };
    const [[, holder], [, remaining]] = ((await client.multi().get(prefix + key).pttl(prefix + key).exec()) ?? []) as [[unknown, string | null], [unknown, number]];
    return { acquired: false, holder, remaining: Math.max(0, Number(remaining)) };
  }

  async release(key: string, taskId: string): Promise<void> {
    const { client, release, prefix } = await this.#connect();
    await release.run(client, [prefix + key], [taskId]);
  }

  async close(): Promise<void> {
    const clients = this.#clients;
    this.#clients = undefined;
    if (clients) (await clients).client.disconnect();
  }
}
