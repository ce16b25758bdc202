/**
 * TickBatcher: what one tick adds goes out as one flush per key. With `perItem: false` the items of
 * a batch share one promise (an ack costs no promise of its own), settled by the flush as a whole;
 * with per-item outcomes each item gets its own (a full queue refuses some publishes of a batch).
 */
import { expect, it } from 'vitest';
import { TickBatcher } from '@nori/core/spi';

it('perItem: false: one flush per key and tick, its items share one promise that the flush settles as a whole', async () => {
  const flushed: Array<[string, number[]]> = [];
  const batcher = new TickBatcher<number>(
    async (key, items) => {
      flushed.push([key, items]);
      if (key === 'bad') throw new Error('refused');
    },
    { perItem: false },
  );
  const a1 = batcher.add('a', 1);
  const a2 = batcher.add('a', 2);
  const b1 = batcher.add('bad', 3);
  const b2 = batcher.add('bad', 4);
  expect(a1).toBe(a2);
  expect(b1).toBe(b2);
  expect(a1).not.toBe(b1);
  await expect(a1).resolves.toBeUndefined();
  await expect(b2).rejects.toThrow('refused');
  expect(flushed).toEqual([
    ['a', [1, 2]],
    ['bad', [3, 4]],
  ]);
  // The next tick is a new batch with a promise of its own.
  const a3 = batcher.add('a', 5);
  expect(a3).not.toBe(a1);
  await a3;
  expect(flushed.at(-1)).toEqual(['a', [5]]);
});

it('per item (the default): each item settles with its own outcome', async () => {
  const batcher = new TickBatcher<number>(async (_key, items) => items.map((n) => (n % 2 === 0 ? new Error(`even ${n}`) : undefined)));
  const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.add('q', n)));
  expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok'))).toEqual(['ok', 'even 2', 'ok', 'even 4']);
});
