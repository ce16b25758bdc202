/**
 * The claim script pops, files and indexes up to 1,000 messages per Redis call: a claim of more
 * than that, across priority buckets of uneven sizes, takes every message once, most urgent bucket
 * first and in order within a bucket, each under a key of its own in `unacked` / `unacked_index`.
 * A key prefix of its own, so the `unacked` hash is this test's alone on the shared Redis.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { toEnvelope, type Claimed } from '@nori/core/spi';
import { prefixedStore } from './prefixed-store.js';

const { prefix, redis, store } = prefixedStore('claim_batch');

it('a claim of 2,600 from buckets of 1,500, 1 and 1,100 messages takes each once, by priority, then in order', async () => {
  const queue = `claim-batch-${randomUUID().slice(0, 8)}`;
  const put = (n: number, priority: number | undefined) =>
    store().putMany(
      queue,
      Array.from({ length: n }, (_, i) => ({
        envelope: toEnvelope(
          { body: Buffer.from(`${priority}:${i}`), contentType: 'text/plain', contentEncoding: 'utf-8', headers: {}, properties: {} },
          '',
          queue,
          randomUUID(),
        ),
        options: { priority },
      })),
    );
  await put(1100, 0); // kombu's wire priority 9: the last bucket claimed from
  await put(1, 5);
  await put(1500, undefined); // kombu's plain list: the first bucket claimed from
  const claimed = (await store().claim(queue, 2600, 60_000)) as Claimed[];

  const bodies = claimed.map((c) => Buffer.from(c.envelope.body, 'base64').toString());
  const expected = [...Array.from({ length: 1500 }, (_, i) => `undefined:${i}`), '5:0', ...Array.from({ length: 1099 }, (_, i) => `0:${i}`)];
  expect(bodies).toEqual(expected);
  expect(new Set(claimed.map((c) => c.token)).size).toBe(2600);
  expect(await redis.hlen(`${prefix}unacked`)).toBe(2600);
  expect(await redis.zcard(`${prefix}unacked_index`)).toBe(2600);
  expect(await store().size(queue)).toBe(1);

  expect(
    await store().ack(
      queue,
      claimed.map((c) => c.token),
    ),
  ).toBe(2600);
  expect(await redis.hlen(`${prefix}unacked`)).toBe(0);
  await store().deleteQueue(queue);
});
