/**
 * URL + transport options → ioredis options and the store's own settings. kombu's option names
 * (snake_case, seconds) are accepted beside nori's (camelCase, milliseconds).
 */
import type { RedisOptions } from 'ioredis';
import { InvalidArgumentError, UrlError, type BrokerUrl } from '@nori/core';
import { numberOption, type TransportOptions } from '@nori/core/spi';
import { DEFAULT_PRIORITY_STEPS } from './keys.js';

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisStoreSettings {
  readonly client: RedisOptions;
  /** Seed nodes of a Redis Cluster (`redis+cluster://`); undefined for a single server or Sentinel. */
  readonly clusterNodes?: readonly ClusterNode[];
  readonly db: number;
  /** kombu's `global_keyprefix`. */
  readonly keyPrefix: string;
  /** kombu's `visibility_timeout`, in ms (default one hour, as kombu). */
  readonly visibilityTimeout: number;
  readonly prioritySteps: readonly number[];
  /** Longest one blocking wait may last when priorities or several queues are waited on. */
  readonly bucketPollMs: number;
}

function pick(options: Record<string, unknown>, ...names: string[]): unknown {
  for (const name of names) if (options[name] !== undefined) return options[name];
  return undefined;
}

/** More cluster seeds: `['host:port', ...]` or `[{ host, port }, ...]`. */
function parseNodes(value: unknown, url: BrokerUrl): ClusterNode[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list)) throw new InvalidArgumentError(`redis URL ${url.masked}: clusterNodes must be a list of "host:port" or { host, port }`);
  return list.map((node: unknown) => {
    if (typeof node === 'string') {
      const at = node.lastIndexOf(':');
      const port = Number(node.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port)) throw new InvalidArgumentError(`redis URL ${url.masked}: cluster node "${node}" is not host:port`);
      return { host: node.slice(0, at), port };
    }
    const { host, port } = node as Partial<ClusterNode>;
    if (typeof host !== 'string' || !Number.isInteger(port))
      throw new InvalidArgumentError(`redis URL ${url.masked}: cluster node ${JSON.stringify(node)} needs host and port`);
    return { host, port: port as number };
  });
}

export function redisSettings(url: BrokerUrl, options: TransportOptions): RedisStoreSettings {
  const o = options.transportOptions;
  const client: RedisOptions = {
    lazyConnect: true,
    connectTimeout: options.connectTimeout,
    // Reconnect for ever after a successful connect, backing off to 2 s; a command waits through
    // 20 reconnect attempts and then fails (never silently dropped).
    retryStrategy: (times: number) => Math.min(times * 100, 2000),
    maxRetriesPerRequest: 20,
    // A disconnect destroys a socket the server has not closed after this long (ioredis: 2 s). Its
    // timer outlives a socket that had already closed (ioredis disconnects such clients itself,
    // e.g. a cluster's seed probes) and holds a process open until it fires.
    disconnectTimeout: 100,
    // Commands issued in the same tick go out in one write: publishes from concurrent callers
    // pipeline without the caller doing anything.
    enableAutoPipelining: true,
    // A publish is one LPUSH a tick and queue already (the store batches a tick's publishes):
    // written when called, it costs no Pipeline of its own and reaches the server a turn sooner.
    autoPipeliningIgnoredCommands: ['lpush'],
    ...(options.connectionName !== undefined && { connectionName: options.connectionName }),
  };
  if (url.username !== undefined) client.username = url.username;
  if (url.password !== undefined) client.password = url.password;
  let db = 0;
  const dbText = url.scheme === 'redis+socket' ? url.query['virtual_host'] : url.virtualHost;
  if (dbText !== undefined) {
    db = Number(dbText.replace(/^\//, ''));
    if (!Number.isInteger(db) || db < 0) throw new UrlError(`redis URL ${url.masked}: database "${dbText}" is not a number`);
  }
  client.db = db;
  let clusterNodes: ClusterNode[] | undefined;
  switch (url.scheme) {
    case 'redis':
    case 'rediss':
      client.host = url.hostname ?? '127.0.0.1';
      client.port = url.port ?? 6379;
      if (url.scheme === 'rediss') client.tls = { ...(pick(o, 'tls') as object | undefined) };
      break;
    case 'redis+socket':
      if (!url.path) throw new UrlError(`redis URL ${url.masked}: redis+socket:// needs a socket path`);
      client.path = url.path;
      break;
    case 'redis+cluster': {
      if (db !== 0) throw new UrlError(`redis URL ${url.masked}: a Redis Cluster has only database 0`);
      if (pick(o, 'tls') !== undefined) client.tls = { ...(pick(o, 'tls') as object) };
      clusterNodes = [{ host: url.hostname ?? '127.0.0.1', port: url.port ?? 6379 }, ...parseNodes(pick(o, 'clusterNodes', 'cluster_nodes'), url)];
      break;
    }
    case 'sentinel': {
      const masterName = pick(o, 'masterName', 'master_name');
      if (typeof masterName !== 'string') throw new InvalidArgumentError(`sentinel URL ${url.masked}: set transportOptions.masterName (kombu: master_name)`);
      client.sentinels = (pick(o, 'sentinels') as RedisOptions['sentinels']) ?? [{ host: url.hostname ?? '127.0.0.1', port: url.port ?? 26379 }];
      client.name = masterName;
      break;
    }
    default:
      throw new UrlError(`redis transport cannot use scheme ${url.scheme}://`);
  }
  // kombu's visibility_timeout is in seconds; nori's visibilityTimeout (ms) wins when both are set.
  const vtSeconds = numberOption(o, 'visibility_timeout', 3600);
  const steps = pick(o, 'prioritySteps', 'priority_steps');
  return {
    client,
    ...(clusterNodes && { clusterNodes }),
    db,
    keyPrefix: String(pick(o, 'globalKeyprefix', 'global_keyprefix') ?? ''),
    visibilityTimeout: numberOption(o, 'visibilityTimeout', vtSeconds * 1000),
    prioritySteps: Array.isArray(steps) ? steps.map(Number).sort((a, b) => a - b) : DEFAULT_PRIORITY_STEPS,
    bucketPollMs: numberOption(o, 'bucketPollMs', 1000),
  };
}
