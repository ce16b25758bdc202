/**
 * Consumer processes SIGKILLed mid-stream on MongoDB, at random points and then every 0.5 s: every
 * message they held comes back when its lease lapses; nothing is left in the collection.
 */
import { afterAll, beforeAll } from 'vitest';
import '@nori/mongodb';
import { streamFaultTests } from '@nori/testing/faults';
import { mongoUrl, serverLabel, startServer, stopServer } from './server.js';
import { storedOf } from './stored.js';

beforeAll(startServer);
afterAll(stopServer);

streamFaultTests({
  name: `mongodb (${serverLabel})`,
  url: mongoUrl,
  imports: ['@nori/mongodb'],
  inFlight: storedOf,
  kill: { total: 2_000, batch: 200, maxKills: 4, minKills: 2, killWithinMs: 400 },
  // CongoDB, the in-process emulator, scans its whole collection for every claim (130 of 10,000,
  // or 755 of 1,000, delivered in 50 s here), so the emulator run is smaller than a real server's.
  // On the emulator 500 messages once drained in 2.4 s with only 2 kills (a CI run): 200 ms a
  // message at 20 handlers per process spreads them over several kills.
  chaos: { total: process.env['MONGODB_URI'] ? 10_000 : 500, batch: 250, handleMs: 200 },
});
