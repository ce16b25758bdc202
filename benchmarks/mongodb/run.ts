/**
 * MongoDB transport throughput, labelled with the server it ran against: nori publish and
 * consume-with-ack beside the raw driver doing the nearest equivalent (insertOne; findOneAndUpdate
 * lease + deleteOne), same concurrency, in the same run. Without MONGODB_URI it starts CongoDB
 * in-process, which is a functional stand-in, not a performance peer of mongod.
 *   pnpm bench:mongodb [--count 5000] [--runs 3] [--json out.json]
 */
import { MongoClient } from 'mongodb';
import { Connection, Queue } from '@nori/core';
import '@nori/mongodb';
import { Bench } from '../lib/harness.js';
import { consumeAll, inWindows, numberArg, packageVersion, runName, taskMessage as body } from '../lib/workload.js';
import { mongoUrl, serverLabel, startServer, stopServer } from '../../packages/mongodb/test/server.js';

const COUNT = numberArg('count', 5_000);
const WINDOW = 100;

await startServer();
const client = new MongoClient(mongoUrl);
await client.connect();
// Names of this run's own: with MONGODB_URI the server may be shared.
const raw = client.db().collection<{ queue: string; seq: number; leaseUntil: number | null; payload: string }>(runName('raw'));
const conn = new Connection(mongoUrl);
const producer = conn.producer();
const queue = new Queue(runName('nori'));
await conn.declare(queue);

const rawPublish = (): Promise<number> =>
  inWindows(COUNT, WINDOW, (i) => raw.insertOne({ queue: 'raw', seq: i, leaseUntil: null, payload: JSON.stringify({ ...body, id: i }) }));
const noriPublish = (): Promise<number> => inWindows(COUNT, WINDOW, (i) => producer.publish({ ...body, id: i }, { routingKey: queue.name }));

const bench = new Bench('mongodb transport', {
  server: serverLabel,
  messageBytes: JSON.stringify(body).length,
  count: COUNT,
  concurrency: WINDOW,
  mongodb: packageVersion('mongodb'),
});
bench.add({
  group: 'publish',
  name: 'driver insertOne',
  baseline: true,
  unit: 'msg/s',
  setup: () => raw.deleteMany({}).then(() => undefined),
  run: rawPublish,
});
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
  run: () => consumeAll(conn, queue, COUNT, { prefetch: 100, concurrency: 10 }),
});

await bench.run();
await conn.deleteQueue(queue);
await raw.drop();
await conn.close();
await client.close();
await stopServer();
