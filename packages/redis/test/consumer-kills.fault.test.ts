/**
 * Consumer processes SIGKILLed while 10,000 messages flow through Redis, at random points and
 * then every 0.5 s: every id arrives and nothing of the queue is left in `unacked`.
 */
import '@nori/redis';
import { streamFaultTests } from '@nori/testing/faults';
import { redisUrl } from '@nori/testing/brokers';
import { unackedOf } from './unacked.js';

streamFaultTests({
  name: 'redis',
  url: redisUrl(),
  imports: ['@nori/redis'],
  inFlight: unackedOf,
  // Consumers take thousands of messages a second: kill them within ~130 ms of starting.
  kill: { total: 10_000, batch: 500, maxKills: 8, minKills: 4, killWithinMs: 120 },
  // Idle, three consumers drained 10,000 messages before the first kill (a CI run): 20 ms a
  // message at 20 handlers per process spreads the stream over several seconds of kills.
  chaos: { total: 10_000, batch: 1000, handleMs: 20 },
});
