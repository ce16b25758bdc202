/**
 * MongoDB connection strings read the way the driver reads them, with its own parser
 * (mongodb-connection-string-url): seed lists (`mongodb://h1:27017,h2:27017/app?replicaSet=rs0`),
 * `mongodb+srv://`, and every option reach the driver exactly as written. The database is the
 * path (default `nori`).
 */
import { ConnectionString } from 'mongodb-connection-string-url';
import { UrlError, type BrokerUrl } from '@nori/core';

export interface MongoUrl {
  readonly connectionString: ConnectionString;
  /** The database nori's collections live in: the URL's path, default `nori`. */
  readonly database: string;
}

export function readMongoUrl(url: BrokerUrl): MongoUrl {
  let connectionString: ConnectionString;
  try {
    connectionString = new ConnectionString(url.href);
  } catch (error) {
    const reason = (error as Error).message;
    throw new UrlError(`malformed mongodb URL ${url.masked}: ${url.password ? reason.split(url.password).join('**') : reason}`, { cause: error });
  }
  const path = decodeURIComponent(connectionString.pathname.replace(/^\//, ''));
  return {
    connectionString,
    database: path === '' ? 'nori' : path,
  };
}
