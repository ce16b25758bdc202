/**
 * The transport conformance suite. A transport package runs it against its real broker:
 *
 *   import '@nori/redis';
 *   runConformance({ name: 'redis', url: 'redis://127.0.0.1:6379/0', deadUrl: 'redis://127.0.0.1:1/0', childImports: ['@nori/redis'] });
 *
 * What the transport's capabilities leave out is skipped (reported as skipped), and using it is
 * checked to throw `UnsupportedFeatureError`.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { TransportCapabilities } from '@nori/core';
import { basicTests } from './basic.js';
import { cancellationTests } from './cancellation.js';
import { closeOrderTests } from './close-order.js';
import { consumerPolicyTests } from './consumer-policy.js';
import { SuiteContext, type ConformanceOptions } from './context.js';
import { exchangeTests } from './exchanges.js';
import { failoverTests } from './failover.js';
import { fencingTests } from './fencing.js';
import { leaseTests } from './leases.js';
import { lifecycleTests } from './lifecycle.js';
import { maxLengthTests } from './max-length.js';
import { priorityTests } from './priority.js';
import { queueNameTests } from './queue-names.js';
import { redeliveryTests } from './redelivery.js';
import { ttlTests } from './ttl.js';

export type { ConformanceOptions } from './context.js';
export { SuiteContext, collect, sleep, until, bodies } from './context.js';
export { TestNames } from './names.js';
// Child processes of the suite's own scripts (child-*.ts), for tests of a transport package.
export { child, kill, type Child } from './child.js';

export function runConformance(options: ConformanceOptions): void {
  const ctx = new SuiteContext(options);
  let caps: TransportCapabilities | undefined;
  const capabilities = (): TransportCapabilities => {
    if (!caps) throw new Error('capabilities read before the suite connected');
    return caps;
  };

  describe(`conformance: ${options.name}`, () => {
    beforeAll(async () => {
      const conn = ctx.connection();
      await conn.connect();
      caps = conn.capabilities;
    });
    afterAll(() => ctx.closeAll());

    describe('basic functionality', () => basicTests(ctx));
    describe('exchange types', () =>
      exchangeTests(ctx, () => ({ headers: capabilities().exchangeTypes.includes('headers'), mandatory: capabilities().mandatory })));
    describe('priorities', () => priorityTests(ctx, () => capabilities().priorities));
    describe('message lifecycle', () => lifecycleTests(ctx));
    describe('leases', () => leaseTests(ctx));
    describe('time to live', () => ttlTests(ctx, () => capabilities().messageTtl));
    describe('max length', () => maxLengthTests(ctx, () => capabilities().maxLength));
    describe('failover', () => failoverTests(ctx));
    describe('kill and redeliver', () => redeliveryTests(ctx));
    describe('consumer policy', () => consumerPolicyTests(ctx));
    describe('cancellation and disposal', () => cancellationTests(ctx));
    describe('fenced settles', () => fencingTests(ctx));
    describe('return on close', () => closeOrderTests(ctx));
    describe('queue names', () => queueNameTests(ctx));
  });
}
