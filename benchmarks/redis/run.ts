/**
 * Redis transport throughput: nori publish and consume-with-ack beside raw ioredis doing the
 * nearest equivalent (pipelined LPUSH; LMOVE into a processing list + LREM), in the same run.
 *   pnpm bench:redis [--count 100000] [--runs 3] [--json out.json]
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';
import { Bench } from '../lib/harness.js';

const argv = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const COUNT = argv('count', 100_000);
const WINDOW = 1000;
const body = { id: 0, task: 'proj.tasks.resize', args: ['image-0001.png', 640, 480], note: 'x'.repeat(40) };
const size = JSON.stringify(body).length;
const version = (pkg: string): string => (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

const redis = new Redis(6379, '127.0.0.1');
const conn = new Connection('redis://127.0.0.1:6379/0');
const producer = conn.producer();
const rawQueue = 'bench-raw';
const rawProcessing = 'bench-raw-processing';
const noriQueue = new Queue('bench-nori');
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
  for (let i = 0; i < COUNT; i += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, COUNT - i) }, (_, j) => producer.publish({ ...body, id: i + j }, { routingKey: noriQueue.name })));
  }
}

const bench = new Bench('redis transport', {
  messageBytes: size,
  count: COUNT,
  window: WINDOW,
  redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1],
  ioredis: version('ioredis'),
});

bench.add({ group: 'publish', name: 'ioredis JSON + LPUSH, pipelined', baseline: true, unit: 'msg/s', setup: () => redis.del(rawQueue).then(() => undefined), run: async () => (await rawLoad(), COUNT) });
bench.add({ group: 'publish', name: 'nori producer.publish', unit: 'msg/s', setup: () => conn.purge(noriQueue).then(() => undefined), run: async () => (await noriLoad(), COUNT) });

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
  run: async () => {
    let count = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const consumer = conn.consumer([noriQueue], { prefetch: 1000, concurrency: 100 }, async (m) => {
      await m.ack();
      if (++count === COUNT) done();
    });
    await consumer.start();
    await finished;
    await consumer.stop();
    return count;
  },
});

await bench.run();
await redis.del(rawQueue, rawProcessing);
await conn.deleteQueue(noriQueue);
await conn.close();
redis.disconnect();
