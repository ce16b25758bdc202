/**
 * The MongoDB driver client for a URL and transport options: the store and the task layer's
 * result backend both build theirs here, so a URL means the same server to both. The URL goes to
 * the driver as written (read by its own parser, see mongo-url.ts); nori's connect timeout fills
 * only the timeouts the URL leaves unset (URL options are case-insensitive), and
 * `transportOptions.driverOptions` go to the driver as given.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb';
import type { BrokerUrl } from '@nori/core';
import type { TransportOptions } from '@nori/core/spi';
import { readMongoUrl } from './mongo-url.js';

export function createMongoClient(url: BrokerUrl, options: Pick<TransportOptions, 'transportOptions' | 'connectTimeout'>): MongoClient {
  const { connectionString } = readMongoUrl(url);
  const params = connectionString.searchParams;
  return new MongoClient(connectionString.toString(), {
    ...(!params.has('serverSelectionTimeoutMS') && { serverSelectionTimeoutMS: options.connectTimeout }),
    ...(!params.has('connectTimeoutMS') && { connectTimeoutMS: options.connectTimeout }),
    ...(options.transportOptions['driverOptions'] as MongoClientOptions | undefined),
  });
}
