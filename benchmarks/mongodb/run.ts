/**
 * MongoDB transport throughput, labelled with the server it ran against: nori publish and
 * consume-with-ack beside the raw driver doing the nearest equivalent (insertOne; findOneAndUpdate
 * lease + deleteOne), same concurrency, in the same run. Without MONGODB_URI it starts CongoDB
 * in-process, which is a functional stand-in, not a performance peer of mongod.
 *   pnpm bench:mongodb [--count 5000] [--runs 3] [--json out.json]
 */
import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { Connection, Queue } from '@nori/core';
import '@nori/mongodb';
import { Bench } from '../lib/harness.js';
import { mongoUrl, serverLabel, startServer, stopServer } from '../../packages/mongodb/test/server.js';

const argv = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const COUNT = argv('count', 5_000);
const WINDOW = 100;
const body = { id: 0, task: 'proj.tasks.resize', args: ['image-0001.png', 640, 480], note: 'x'.repeat(40) };
const version = (pkg: string): string => (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

await startServer();
const client = new MongoClient(mongoUrl);
await client.connect();
const raw = client.db().collection<{ queue: string; seq: number; leaseUntil: number | null; payload: string }>('bench.raw');
const conn = new Connection(mongoUrl);
const producer = conn.producer();
const queue = new Queue('bench-nori');
await conn.declare(queue);

async function windows(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < COUNT; i += WINDOW) await Promise.all(Array.from({ length: Math.min(WINDOW, COUNT - i) }, (_, j) => fn(i + j)));
  return COUNT;
}
const rawPublish = (): Promise<number> => windows((i) => raw.insertOne({ queue: 'raw', seq: i, leaseUntil: null, payload: JSON.stringify({ ...body, id: i }) }));
const noriPublish = (): Promise<number> => windows((i) => producer.publish({ ...body, id: i }, { routingKey: queue.name }));

const bench = new Bench('mongodb transport', { server: serverLabel, messageBytes: JSON.stringify(body).length, count: COUNT, concurrency: WINDOW, mongodb: version('mongodb') });
bench.add({ group: 'publish', name: 'driver insertOne', baseline: true, unit: 'msg/s', setup: () => raw.deleteMany({}).then(() => undefined), run: rawPublish });
bench.add({ group: 'publish', name: 'nori producer.publish', unit: 'msg/s', setup: () => conn.purge(queue).then(() => undefined), run: noriPublish });
bench.add({
  group: 'consume + ack',
  name: 'driver findOneAndUpdate + deleteOne',
  baseline: true,
  unit: 'msg/s',
  setup: async () => {
    await raw.deleteMany({});
    await rawPublish();
  },
  run: async () => {
    let taken = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const doc = await raw.findOneAndUpdate({ queue: 'raw', leaseUntil: null }, { $set: { leaseUntil: Date.now() + 30_000 } }, { sort: { seq: 1 } });
        if (!doc) return;
        JSON.parse(doc.payload);
        await raw.deleteOne({ _id: doc._id });
        taken++;
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    return taken;
  },
});
bench.add({
  group: 'consume + ack',
  name: 'nori consumer (prefetch 100, concurrency 10)',
  unit: 'msg/s',
  setup: async () => {
    await conn.purge(queue);
    await noriPublish();
  },
  run: async () => {
    let count = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const consumer = conn.consumer([queue], { prefetch: 100, concurrency: 10 }, async (m) => {
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
await conn.deleteQueue(queue);
await conn.close();
await client.close();
await stopServer();
