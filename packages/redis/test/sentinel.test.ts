/** nori through a real Redis Sentinel (`sentinel://`), which hands it the tests' Redis as master. */
import { afterAll, beforeAll } from 'vitest';
import '@nori/redis';
import { runConformance } from '@nori/testing';
import { masterName, sentinelUrl, startSentinel, stopSentinel } from './sentinel.js';

beforeAll(startSentinel, 30_000);
afterAll(stopSentinel);

runConformance({
  name: 'redis-sentinel',
  url: sentinelUrl,
  deadUrl: 'sentinel://127.0.0.1:1',
  childImports: ['@nori/redis'],
  connectionOptions: { transportOptions: { leaseMs: 1500, masterName, global_keyprefix: '_sentinel_' } },
  failedConnectLingerMs: 2000,
});
