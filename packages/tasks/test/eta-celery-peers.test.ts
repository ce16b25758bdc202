/**
 * Issue 22 item 6, on Redis with a real Celery 5.2 worker (Debian's /usr/bin/python3): ETA tasks
 * a nori worker held or parked reach a Celery worker on the same queue once the nori worker stops
 * (a rollback, a scale-down), with the default ETA options. Held ones go back with the warm stop;
 * parked ones wait in nori's delayed set, which Celery never reads, so the warm stop moves them
 * back into the queue. The Celery worker then runs every one once, none before its ETA.
 */
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Connection } from '@nori/core';
import '@nori/redis';
import { App } from '@nori/tasks';
import { TestNames } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';
import { waitFor } from './brokers.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';
import { startCeleryWorker, type CeleryWorker } from './python/celery.js';

const names = new TestNames('eta-peers');
const redis = new Redis(redisUrl());
const celery: CeleryWorker[] = [];
afterAll(async () => {
  for (const w of celery) await w.stop();
  redis.disconnect();
});

interface When {
  label: string;
  ran: number;
  eta: string | null;
}

it('six countdowns a nori worker held (3) and parked (3) all run on a Celery worker after the nori worker stops, none early', async () => {
  const queue = names.name('q');
  const backend = redisUrl(1);
  const app = new App({ broker: redisUrl(), backend, defaultQueue: queue, ...CELERY_NAMES });
  const started: string[] = [];
  app.task('interop.when', (label: string) => {
    started.push(label);
    return { label, ran: Date.now() / 1000, eta: null };
  });
  try {
    // prefetch 1 × 4: three held at most by default, so of six the last three are parked.
    const worker = app.worker({ concurrency: 1, prefetchMultiplier: 4 });
    const parked: string[] = [];
    const received: string[] = [];
    worker.on('task-parked', (r) => parked.push(r.id));
    worker.on('task-received', (r) => received.push(r.id));
    await worker.start();
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await app.sendTask('interop.when', [`t${i}`], {}, { countdown: 8000 }));
    await waitFor('the nori worker to hold three and park three', () => received.length === 6 && parked.length === 3, 10_000);
    expect(await redis.zcard(`${queue}\x06\x16delayed`)).toBe(3);
    await worker.stop();
    expect(started).toEqual([]);
    // Nothing is left where Celery cannot see it: all six are in the queue, none in flight.
    expect(await redis.zcard(`${queue}\x06\x16delayed`)).toBe(0);
    expect(await redis.llen(queue)).toBe(6);

    celery.push(await startCeleryWorker({ broker: redisUrl(), backend, queue }));
    const outcomes = (await Promise.all(results.map((r) => r.get({ timeout: 30_000 })))) as When[];
    expect(outcomes.map((o) => o.label).sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    for (const o of outcomes) expect(o.ran).toBeGreaterThanOrEqual(Date.parse(o.eta as string) / 1000);
    expect(started).toEqual([]);
    expect(await redis.llen(queue)).toBe(0);
  } finally {
    await app.close();
    const conn = new Connection(redisUrl());
    await conn.deleteQueue(queue).catch(() => undefined);
    await conn.deleteExchange(queue).catch(() => undefined);
    await deleteCeleryNames(conn);
    await conn.close();
  }
}, 120_000);
