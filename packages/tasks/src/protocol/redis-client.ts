/**
 * A Redis client for the task layer's own keys (chord counters, once-locks, beat state), built
 * with @nori/redis's factory on first use so URLs, TLS, Sentinel and key prefixes mean what they
 * mean for the broker; a missing @nori/redis names its install command (it is an optional peer,
 * so it is only ever imported here, lazily).
 */
import { parseUrl, type Logger } from '@nori/core';
import type { createRedisClient, LuaScript } from '@nori/redis';
import { importOptional } from '../optional-package.js';

export type RedisClient = ReturnType<typeof createRedisClient>;

export interface RedisHandle<S extends string = never> {
  client: RedisClient;
  /** The URL's global key prefix, to put before every key. */
  prefix: string;
  /** The Lua scripts asked for, by name. */
  scripts: Record<S, LuaScript>;
}

/**
 * `unpipelined`: commands written to the socket when called instead of in the tick's
 * autopipeline, for a caller that issues them one at a time (outside a Cluster): ioredis builds a
 * Pipeline for each tick's commands, which for a lone command costs more than the write it saves,
 * and sends it an event-loop turn later.
 */
export function connectRedis<S extends string = never>(
  url: string,
  logger: Logger,
  scripts: Readonly<Record<S, string>> = {} as Record<S, string>,
  unpipelined: readonly string[] = [],
): Promise<RedisHandle<S>> {
  const parsed = parseUrl(url);
  return importOptional(parsed.scheme, '@nori/redis', () => import('@nori/redis')).then(({ redisSettings, createRedisClient, LuaScript }) => {
    const settings = redisSettings(parsed, { transportOptions: { ...parsed.query }, logger, connectTimeout: 4000 });
    settings.client.autoPipeliningIgnoredCommands = [...unpipelined];
    const client = createRedisClient(settings);
    // Failures surface through the commands; ioredis would print unhandled 'error' events.
    client.on('error', () => undefined);
    const lua = Object.fromEntries(Object.entries(scripts).map(([name, source]) => [name, new LuaScript(source as string)])) as Record<S, LuaScript>;
    return { client, prefix: settings.keyPrefix, scripts: lua };
  });
}
