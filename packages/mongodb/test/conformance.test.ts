import { afterAll, beforeAll } from 'vitest';
import '@nori/mongodb';
import { runConformance } from '@nori/testing';
import { deadMongoUrl, mongoUrl, startServer, stopServer } from './server.js';

beforeAll(startServer);
afterAll(stopServer);

runConformance({
  name: 'mongodb',
  url: mongoUrl,
  deadUrl: deadMongoUrl,
  connectionOptions: { connectTimeout: 1000, transportOptions: { leaseMs: 1500 } },
  childImports: ['@nori/mongodb'],
  leases: true,
});
