/**
 * Bad credentials end in `AuthenticationError` from connect, ensureConnection (at once, no retry),
 * publish and ack. CongoDB accepts any credentials, so the server case runs against a real
 * server only (MONGODB_URI with a user, e.g. mongodb://user:pw@host/db?authSource=admin); the
 * classification of the server's own error codes runs everywhere.
 */
import { MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, BrokerRefusedError, Connection, ConnectionError } from '@nori/core';
import '@nori/mongodb';
import { classifyMongoError } from '../src/mongo-error.js';

const external = process.env['MONGODB_URI'];

describe('MongoDB errors', () => {
  it('server codes map to nori classes: 18 → AuthenticationError, 11000 → BrokerRefusedError, network → ConnectionError', () => {
    const auth = classifyMongoError(new MongoServerError({ message: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' }), 'connect');
    expect(auth).toBeInstanceOf(AuthenticationError);
    const dup = classifyMongoError(new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 }), 'publish');
    expect(dup).toBeInstanceOf(BrokerRefusedError);
    expect(dup.message).toMatch(/E11000 duplicate key/);
    const stepDown = classifyMongoError(new MongoServerError({ message: 'not primary', code: 10107 }), 'publish');
    expect(stepDown).toBeInstanceOf(ConnectionError);
    expect(classifyMongoError(new MongoNetworkError('connection reset'), 'ack')).toBeInstanceOf(ConnectionError);
  });

  it.skipIf(!external?.includes('@'))('a wrong password fails connect, ensureConnection and publish with AuthenticationError', async () => {
    const wrong = (external as string).replace(/:\/\/([^:]+):[^@]*@/, '://$1:certainly-wrong@');
    const conn = new Connection(wrong, { connectTimeout: 3000 });
    try {
      await expect(conn.connect()).rejects.toThrow(AuthenticationError);
      const retries: number[] = [];
      conn.on('reconnecting', (attempt) => retries.push(attempt));
      await expect(conn.ensureConnection({ maxRetries: 5, intervalStart: 2000 })).rejects.toThrow(AuthenticationError);
      expect(retries).toEqual([]);
      await expect(conn.producer().publish({ n: 1 }, { routingKey: 'auth-q', retry: true })).rejects.toThrow(AuthenticationError);
    } finally {
      await conn.close();
    }
  });
});
