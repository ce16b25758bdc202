/**
 * RabbitMQ transport throughput: nori publish-with-confirms and consume-with-ack beside raw
 * amqplib doing the same (confirm channel, same window of unconfirmed publishes; consume with the
 * same prefetch, ack per message), in the same run.
 *   pnpm bench:amqp [--count 100000] [--runs 3] [--json out.json]
 */
import { readFileSync } from 'node:fs';
import amqplib from 'amqplib';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { Bench } from '../lib/harness.js';

const argv = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const COUNT = argv('count', 100_000);
const WINDOW = 1000;
const PREFETCH = 1000;
const URL_ = 'amqp://guest:guest@127.0.0.1:5672//';
const body = { id: 0, task: 'proj.tasks.resize', args: ['image-0001.png', 640, 480], note: 'x'.repeat(40) };
const version = (pkg: string): string => (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

const raw = await amqplib.connect(URL_);
const rawPub = await raw.createConfirmChannel();
const rawQueue = 'bench-raw';
await rawPub.assertQueue(rawQueue, { durable: true });

const conn = new Connection(URL_);
const producer = conn.producer();
const noriQueue = new Queue('bench-nori', { durable: true });
await conn.declare(noriQueue);

async function rawPublish(): Promise<number> {
  for (let i = 0; i < COUNT; i += WINDOW) {
    await Promise.all(
      Array.from({ length: Math.min(WINDOW, COUNT - i) }, (_, j) =>
        new Promise<void>((resolve, reject) =>
          rawPub.publish('', rawQueue, Buffer.from(JSON.stringify({ ...body, id: i + j })), { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, headers: {} }, (err: unknown) =>
            err ? reject(err as Error) : resolve(),
          ),
        ),
      ),
    );
  }
  return COUNT;
}

async function noriPublish(): Promise<number> {
  for (let i = 0; i < COUNT; i += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, COUNT - i) }, (_, j) => producer.publish({ ...body, id: i + j }, { routingKey: noriQueue.name })));
  }
  return COUNT;
}

const bench = new Bench('amqp transport', {
  messageBytes: JSON.stringify(body).length,
  count: COUNT,
  publishWindow: WINDOW,
  prefetch: PREFETCH,
  rabbitmq: String(raw.connection.serverProperties.version ?? ''),
  amqplib: version('amqplib'),
});

bench.add({ group: 'publish (confirmed)', name: 'amqplib confirm channel', baseline: true, unit: 'msg/s', setup: () => rawPub.purgeQueue(rawQueue).then(() => undefined), run: rawPublish });
bench.add({ group: 'publish (confirmed)', name: 'nori producer.publish', unit: 'msg/s', setup: () => conn.purge(noriQueue).then(() => undefined), run: noriPublish });

bench.add({
  group: 'consume + ack',
  name: 'amqplib consume + ack',
  baseline: true,
  unit: 'msg/s',
  setup: async () => {
    await rawPub.purgeQueue(rawQueue);
    await rawPublish();
  },
  run: async () => {
    const ch = await raw.createChannel();
    await ch.prefetch(PREFETCH, true);
    let count = 0;
    await new Promise<void>((resolve) => {
      void ch.consume(rawQueue, (m) => {
        if (!m) return;
        JSON.parse(m.content.toString());
        ch.ack(m);
        if (++count === COUNT) resolve();
      });
    });
    await ch.close();
    return count;
  },
});
bench.add({
  group: 'consume + ack',
  name: 'nori consumer',
  unit: 'msg/s',
  setup: async () => {
    await conn.purge(noriQueue);
    await noriPublish();
  },
  run: async () => {
    let count = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const consumer = conn.consumer([noriQueue], { prefetch: PREFETCH, concurrency: 100 }, async (m) => {
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
await rawPub.deleteQueue(rawQueue);
await conn.deleteQueue(noriQueue);
await conn.close();
await raw.close();
