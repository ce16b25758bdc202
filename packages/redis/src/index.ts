/**
 * @nori/redis: `redis://`, `rediss://`, `redis+socket://`, `redis+cluster://` and `sentinel://` for nori, with kombu's
 * key layout. Importing it registers the schemes.
 */
import { registerTransport, virtualTransport } from '@nori/core/spi';
import { createRedisStore, redisStoreModule } from './redis-store.js';

registerTransport(['redis', 'rediss', 'redis+socket', 'redis+cluster', 'sentinel'], virtualTransport(createRedisStore, redisStoreModule));

export { RedisStore, createRedisStore, REDIS_MAX_BODY_SIZE } from './redis-store.js';
export { Keys, SEP, DEFAULT_PRIORITY_STEPS, toWirePriority, fromWirePriority } from './keys.js';
export { redisSettings, type RedisStoreSettings } from './options.js';
export { createRedisClient } from './client.js';
export { LuaScript } from './lua-script.js';
export { topicPattern } from './topic-pattern.js';
