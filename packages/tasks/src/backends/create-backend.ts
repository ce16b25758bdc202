/**
 * Result backends by URL scheme (Celery's `result_backend`). `memory://` and `rpc://` need only
 * core; the Redis and MongoDB backends load their transport package on first use.
 */
import type { BackendHost, ResultBackend } from './backend.js';
import { UnknownBackendError } from '../errors.js';
import { REDIS_SCHEMES, urlScheme } from '../protocol/broker-url.js';
import { MemoryBackend } from './memory-backend.js';
import { MongoBackend } from './mongodb-backend.js';
import { RedisBackend } from './redis-backend.js';
import { RpcBackend } from './rpc-backend.js';

type Factory = (url: string, host: BackendHost) => ResultBackend;

const redis: Factory = (url, host) => new RedisBackend(url, host);
const mongodb: Factory = (url, host) => new MongoBackend(url, host);

const factories = new Map<string, Factory>([
  ['memory', (url, host) => new MemoryBackend(url, host)],
  ['rpc', (_url, host) => new RpcBackend(host)],
  ...[...REDIS_SCHEMES].map((scheme): [string, Factory] => [scheme, redis]),
  ['mongodb', mongodb],
  ['mongodb+srv', mongodb],
]);

/** The backend for a result URL, e.g. 'redis://127.0.0.1:6379/1', 'rpc://', 'memory://'. Connects on first use. */
export function createBackend(url: string, host: BackendHost): ResultBackend {
  const scheme = urlScheme(url);
  const factory = factories.get(scheme);
  if (!factory) throw new UnknownBackendError(scheme, [...factories.keys()]);
  return factory(url, host);
}
