import '@nori/redis';
import { runConformance } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';

const options = {
  deadUrl: 'redis://127.0.0.1:1/0',
  childImports: ['@nori/redis'],
  leases: true,
};
runConformance({ name: 'redis', url: redisUrl(), ...options, connectionOptions: { transportOptions: { leaseMs: 1500 } } });
runConformance({
  name: 'redis-prefixed',
  url: redisUrl(),
  ...options,
  connectionOptions: { transportOptions: { leaseMs: 1500, global_keyprefix: '_prefixed_' } },
});
