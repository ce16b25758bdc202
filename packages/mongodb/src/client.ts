/**
 * The MongoDB driver client for a URL and transport options: the store and the task layer's
 * result backend both build theirs here, so a URL means the same server to both.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb';
import type { BrokerUrl, TransportOptions } from '@nori/core';

export function createMongoClient(url: BrokerUrl, options: Pick<TransportOptions, 'transportOptions' | 'connectTimeout'>): MongoClient {
  return new MongoClient(url.href, {
    serverSelectionTimeoutMS: options.connectTimeout,
    connectTimeoutMS: options.connectTimeout,
    ...(options.transportOptions['driverOptions'] as MongoClientOptions | undefined),
  });
}
