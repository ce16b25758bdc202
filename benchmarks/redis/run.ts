/**
 * Redis transport throughput: nori publish and consume-with-ack beside raw ioredis doing the
 * nearest equivalent (pipelined LPUSH; LMOVE into a processing list + LREM), in the same run.
 *   pnpm bench:redis [--count 100000] [--runs 3] [--json out.json]
 */
import { Redis } from 'ioredis';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { Bench } from '../lib/harness.js';
import { consumeAll, inWindows, numberArg, packageVersion, runName, taskMessage as body } from '../lib/workload.js';
import { redisUrl } from '@nori/testing/brokers';

const COUNT = numberArg('count', 100_000);
const WINDOW = 1000;
const size = JSON.stringify(body).length;

const redis = new Redis(redisUrl());
const conn = new Connection(redisUrl());
const producer = conn.producer();
// Names of this run's own: another run at the same time (a shared machine) has its own keys.
const rawQueue = runName('raw');
const rawProcessing = runName('raw-processing');
const noriQueue = new Queue(runName('nori'));
await conn.declare(noriQueue);

async function rawLoad(): Promise<void> {
  await redis.del(rawQueue, rawProcessing);
  for (let i = 0; i < COUNT; i += WINDOW) {
    const pipe = redis.pipeline();
    // What a raw ioredis user does: serialize each message, push them pipelined.
    for (let j = i; j < Math.min(COUNT, i + WINDOW); j++) pipe.lpush(rawQueue, JSON.stringify({ ...body, id: j }));
    await pipe.exec();
  }
}

async function noriLoad(): Promise<void> {
  await conn.purge(noriQueue);
  await inWindows(COUNT, WINDOW, (i) => producer.publish({ ...body, id: i }, { routingKey: noriQueue.name }));
}

const bench = new Bench('redis transport', {
  messageBytes: size,
  count: COUNT,
  window: WINDOW,
  redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1],
  ioredis: packageVersion('ioredis'),
});

bench.add({
  group: 'publish',
  name: 'ioredis JSON + LPUSH, pipelined',
  baseline: true,
  unit: 'msg/s',
  setup: () => redis.del(rawQueue).then(() => undefined),
  run: async () => (await rawLoad(), COUNT),
});
bench.add({
  group: 'publish',
  name: 'nori producer.publish',
  unit: 'msg/s',
  setup: () => conn.purge(noriQueue).then(() => undefined),
  run: async () => (await noriLoad(), COUNT),
});

bench.add({
  group: 'consume + ack',
  name: 'ioredis LMOVE + LREM, 100 in flight',
  baseline: true,
  unit: 'msg/s',
  setup: rawLoad,
  run: async () => {
    let taken = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const item = await redis.lmove(rawQueue, rawProcessing, 'RIGHT', 'LEFT');
        if (item === null) return;
        taken++;
        await redis.lrem(rawProcessing, 1, item);
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    return taken;
  },
});
bench.add({
  group: 'consume + ack',
  name: 'nori consumer (prefetch 1000, concurrency 100)',
  unit: 'msg/s',
  setup: noriLoad,
  run: () => consumeAll(conn, noriQueue, COUNT, { prefetch: 1000, concurrency: 100 }),
});

await bench.run();
await redis.del(rawQueue, rawProcessing);
await conn.deleteQueue(noriQueue);
await conn.close();
redis.disconnect();
