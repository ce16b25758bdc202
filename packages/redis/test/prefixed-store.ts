/**
 * A RedisStore under a key prefix of its own (kombu's `global_keyprefix`), so the `unacked` hash is
 * one test file's alone on the shared Redis; connected before the file's tests, its keys deleted after.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { parseUrl, silentLogger } from '@nori/core';
import { RedisStore } from '@nori/redis';
import { redisUrl } from '@nori/testing/brokers';

export interface PrefixedStore {
  readonly prefix: string;
  /** For a Connection that writes under the same prefix. */
  readonly transportOptions: { global_keyprefix: string };
  /** A raw client, to read and break the prefixed keys. */
  readonly redis: Redis;
  store(): RedisStore;
}

export function prefixedStore(name: string): PrefixedStore {
  const prefix = `_${name}_${randomUUID().slice(0, 8)}_`;
  const transportOptions = { global_keyprefix: prefix };
  const redis = new Redis(redisUrl());
  let store: RedisStore | undefined;
  beforeAll(async () => {
    store = new RedisStore(parseUrl(redisUrl()), { transportOptions, logger: silentLogger, connectTimeout: 2000 });
    await store.connect();
  });
  afterAll(async () => {
    await store?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  return {
    prefix,
    transportOptions,
    redis,
    store: () => {
      if (!store) throw new Error('the prefixed store is used before beforeAll connected it');
      return store;
    },
  };
}
