/**
 * The Redis chord counter itself (Celery's `celery-taskset-meta-<group>` keys), part by part: parts
 * come back in header order only to the part that completes the chord, a re-run part is not
 * counted twice, only the completing part (or its own re-run) sees the chord complete, failures are
 * stored as Celery's exception dicts, `.t` adds to the size, the keys expire with the results, and
 * `clear` removes every key. chord-counter.test.ts drives the same code through a worker.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@nori/core';
import { redisUrl } from '@nori/testing/brokers';
import { RedisChordStore, type ChordPart } from '../src/canvas/redis-chord.js';

const URL = redisUrl(1);
const redis = new Redis(URL);
const stores: RedisChordStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  redis.disconnect();
});

const store = (expires: number): RedisChordStore => {
  const s = new RedisChordStore(URL, expires, silentLogger);
  stores.push(s);
  return s;
};
const keysOf = (group: string): string[] => ['.j', '.t', '.s', '.ids', '.done'].map((s) => `celery-taskset-meta-${group}${s}`);
const ok = (taskId: string, result: unknown): ChordPart => ({ taskId, state: 'SUCCESS', result });

describe('RedisChordStore', () => {
  it('hands every part, in header order, to the part that completes the chord, once; a re-run is not counted twice', async () => {
    const chords = store(0);
    const group = randomUUID();
    await chords.setSize(group, 3);
    expect(await redis.get(`celery-taskset-meta-${group}.s`)).toBe('3');
    expect(await redis.pttl(`celery-taskset-meta-${group}.s`)).toBe(-1);

    expect(await chords.partReturn(group, 2, ok('c', 'third'))).toBeUndefined();
    // A re-run of a counted part (killed after counting, before its ack; its result may differ) is not counted again.
    expect(await chords.partReturn(group, 2, ok('c', 'third, re-run'))).toBeUndefined();
    expect(await chords.partReturn(group, 0, ok('a', 'first'))).toBeUndefined();
    expect(await redis.zcard(`celery-taskset-meta-${group}.j`)).toBe(2);
    const parts = await chords.partReturn(group, 1, { taskId: 'b', state: 'FAILURE', result: new TypeError('bad') });
    expect(parts).toEqual([
      ok('a', 'first'),
      { taskId: 'b', state: 'FAILURE', result: { exc_type: 'TypeError', exc_message: ['bad'], exc_module: 'builtins' } },
      ok('c', 'third'),
    ]);
    // Only the completing part's re-run sees the chord complete again, never another part's.
    expect(await chords.partReturn(group, 0, ok('a', 'first'))).toBeUndefined();
    expect(await chords.partReturn(group, 1, { taskId: 'b', state: 'FAILURE', result: new TypeError('bad') })).toEqual(parts);
    for (const key of keysOf(group).filter((k) => !k.endsWith('.t'))) expect(await redis.pttl(key), key).toBe(-1);

    await chords.clear(group);
    expect(await redis.exists(...keysOf(group))).toBe(0);
  });

  it('no size yet counts but completes nothing; `.t` adds to the size; a part without an index sorts last', async () => {
    const chords = store(0);
    const group = randomUUID();
    expect(await chords.partReturn(group, 0, ok('early', 0))).toBeUndefined();
    await chords.setSize(group, 1);
    await redis.set(`celery-taskset-meta-${group}.t`, '2');
    expect(await chords.partReturn(group, null, ok('last', 'x'))).toBeUndefined();
    expect(await chords.partReturn(group, 1, ok('middle', 1))).toEqual([ok('early', 0), ok('middle', 1), ok('last', 'x')]);
    await chords.clear(group);
    expect(await redis.exists(...keysOf(group))).toBe(0);
  });

  it('with result expiry, every key of the chord expires with the results', async () => {
    const chords = store(60_000);
    const group = randomUUID();
    await chords.setSize(group, 2);
    const ttl = await redis.pttl(`celery-taskset-meta-${group}.s`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await redis.set(`celery-taskset-meta-${group}.t`, '0');
    expect(await chords.partReturn(group, 0, ok('a', 1))).toBeUndefined();
    expect(await chords.partReturn(group, 1, ok('b', 2))).toEqual([ok('a', 1), ok('b', 2)]);
    for (const key of keysOf(group)) {
      const left = await redis.pttl(key);
      expect(left, key).toBeGreaterThan(50_000);
      expect(left, key).toBeLessThanOrEqual(60_000);
    }
    await chords.clear(group);
    expect(await redis.exists(...keysOf(group))).toBe(0);
  });

  it('close() disconnects the counter client, and closing an unused store is a no-op', async () => {
    // A database no other test uses, so its clients are this test's.
    const own = new Redis(redisUrl(13));
    const chords = new RedisChordStore(redisUrl(13), 0, silentLogger);
    const clients = async (): Promise<number> =>
      String(await own.client('LIST'))
        .split('\n')
        .filter((line) => / db=13 /.test(line)).length;
    try {
      const group = randomUUID();
      await chords.setSize(group, 1);
      expect(await clients()).toBe(2);
      await chords.close();
      await chords.close();
      const end = Date.now() + 5000;
      while ((await clients()) !== 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(await clients()).toBe(1);
      await own.del(...keysOf(group));
      await new RedisChordStore(redisUrl(13), 0, silentLogger).close();
    } finally {
      own.disconnect();
    }
  });
});
