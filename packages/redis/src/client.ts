/**
 * The ioredis client for parsed settings (see `redisSettings`): a Cluster for `redis+cluster://`,
 * otherwise one client (TCP, TLS, a socket or through Sentinel). The store and the task layer's
 * result backend both build their clients here, so a URL means the same server to both.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisStoreSettings } from './options.js';

export function createRedisClient(settings: Pick<RedisStoreSettings, 'client' | 'clusterNodes'>): Redis | Cluster {
  const { client, clusterNodes } = settings;
  return clusterNodes
    ? new Cluster([...clusterNodes], {
        lazyConnect: true,
        enableAutoPipelining: true,
        clusterRetryStrategy: (times: number) => Math.min(times * 100, 2000),
        redisOptions: { ...client, db: 0 },
      })
    : new Redis(client);
}

/** Another connection to the same server(s), for a blocking command or a subscription. */
export function duplicateClient(client: Redis | Cluster): Redis | Cluster {
  // ioredis 6 types the two duplicate() signatures apart, so the union is not callable as one.
  const copy = client instanceof Cluster ? client.duplicate() : client.duplicate();
  copy.on('error', () => undefined);
  return copy;
}

/**
 * Drops a client's connection, leaving nothing pending. ioredis's disconnect() arms a 2 s timer
 * (its disconnectTimeout) that only the socket's 'close' event clears; on a client whose
 * connection has already ended (after QUIT, an aborted blocking command, a refused connect) that
 * event has passed, so the timer would hold the process open for 2 s: such a client is left alone.
 */
export function disconnectClient(client: Redis | Cluster): void {
  if (client.status !== 'end') client.disconnect();
}
