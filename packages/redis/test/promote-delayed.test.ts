/**
 * `promoteDelayed` (what a task worker's warm stop calls so that Celery workers, which never read
 * nori's delayed set, get the parked tasks): every delayed message of the queue moves into its own
 * priority bucket, in front of the ready ones, the soonest due first, across more than one script
 * call's batch of 1,000; other queues' delayed sets are untouched.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { toEnvelope, type Claimed } from '@nori/core/spi';
import { prefixedStore } from './prefixed-store.js';

const { store } = prefixedStore('promote_delayed');

const envelope = (queue: string, body: string) =>
  toEnvelope({ body: Buffer.from(body), contentType: 'text/plain', contentEncoding: 'utf-8', headers: {}, properties: {} }, '', queue, randomUUID());

it('moves 1,500 delayed messages to the front of their buckets, soonest due first; another queue keeps its own', async () => {
  const queue = `promote-${randomUUID().slice(0, 8)}`;
  const other = `promote-other-${randomUUID().slice(0, 8)}`;
  const now = Date.now();
  await store().putMany(queue, [{ envelope: envelope(queue, 'ready'), options: { priority: undefined } }]);
  // Due in reverse order of publishing: 1,500 without a priority, and one of priority 0 (the last bucket claimed from) due first of all.
  await store().putMany(
    queue,
    Array.from({ length: 1500 }, (_, i) => ({
      envelope: envelope(queue, `d${1499 - i}`),
      options: { priority: undefined, readyAt: now + 60_000 + (1499 - i) * 10 },
    })),
  );
  await store().put(queue, envelope(queue, 'low'), { priority: 0, readyAt: now + 1000 });
  await store().put(other, envelope(other, 'elsewhere'), { priority: undefined, readyAt: now + 60_000 });
  expect(await store().size(queue)).toBe(1);

  expect(await store().promoteDelayed?.(queue)).toBe(1501);
  expect(await store().size(queue)).toBe(1502);
  const claimed = (await store().claim(queue, 2000, 60_000)) as Claimed[];
  const bodies = claimed.map((c) => Buffer.from(c.envelope.body, 'base64').toString());
  // The plain list first: the promoted ones soonest first, ahead of the one that was ready; then the low bucket.
  expect(bodies).toEqual([...Array.from({ length: 1500 }, (_, i) => `d${i}`), 'ready', 'low']);
  expect(await store().promoteDelayed?.(queue)).toBe(0);
  expect(await store().claim(other, 10, 60_000)).toEqual([]);
  expect(await store().promoteDelayed?.(other)).toBe(1);
  expect(await store().claim(other, 10, 60_000)).toHaveLength(1);
  for (const q of [queue, other]) await store().deleteQueue(q);
});
