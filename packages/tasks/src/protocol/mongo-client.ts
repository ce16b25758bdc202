/**
 * A MongoDB client for the task layer's own documents (results, beat's state), built with
 * @nori/mongodb's factory on first use, so URLs and driver options mean what they mean for the
 * broker; a missing @nori/mongodb names its install command (an optional peer, imported only here).
 */
import { parseUrl, type BrokerUrl } from '@nori/core';
import type { createMongoClient } from '@nori/mongodb';
import { importOptional } from '../optional-package.js';

export type MongoClient = ReturnType<typeof createMongoClient>;

export function connectMongo(url: BrokerUrl): Promise<MongoClient> {
  return importOptional(url.scheme, '@nori/mongodb', () => import('@nori/mongodb')).then(({ createMongoClient }) =>
    createMongoClient(url, { transportOptions: { ...url.query }, connectTimeout: 4000 }),
  );
}

/** Splits nori's own option (a collection name, which the driver would refuse) off a MongoDB URL. */
export function withoutOption(url: string, option: string): { url: BrokerUrl; value: string | null } {
  const queryAt = url.indexOf('?');
  const params = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
  const value = params.get(option);
  params.delete(option);
  return { url: parseUrl(value === null ? url : `${url.slice(0, queryAt)}${params.size > 0 ? `?${params}` : ''}`), value };
}
