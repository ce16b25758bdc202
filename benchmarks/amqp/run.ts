/**
 * RabbitMQ transport throughput: nori publish-with-confirms and consume-with-ack beside raw
 * amqplib doing the same (confirm channel, same window of unconfirmed publishes; consume with the
 * same prefetch, ack per message), in the same run. Also publishing without confirms (a producer
 * with `confirms: false` beside a plain amqplib channel that waits for 'drain'), each run timed
 * until the broker holds every message.
 *   pnpm bench:amqp [--count 100000] [--runs 3] [--json out.json]
 */
import { once } from 'node:events';
import amqplib from 'amqplib';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { Bench } from '../lib/harness.js';
import { consumeAll, inWindows, numberArg, packageVersion, runName, taskMessage as body } from '../lib/workload.js';
import { AMQP_URL } from '@nori/testing/brokers';

const COUNT = numberArg('count', 100_000);
const WINDOW = 1000;
const PREFETCH = 1000;
const URL_ = AMQP_URL;

const raw = await amqplib.connect(URL_);
const rawPub = await raw.createConfirmChannel();
// Names of this run's own: another run at the same time (a shared machine) has its own queues.
const rawQueue = runName('raw');
await rawPub.assertQueue(rawQueue, { durable: true });

const conn = new Connection(URL_);
const producer = conn.producer();
const noriQueue = new Queue(runName('nori'), { durable: true });
await conn.declare(noriQueue);

const rawPublish = (): Promise<number> =>
  inWindows(
    COUNT,
    WINDOW,
    (i) =>
      new Promise<void>((resolve, reject) =>
        rawPub.publish(
          '',
          rawQueue,
          Buffer.from(JSON.stringify({ ...body, id: i })),
          { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, headers: {} },
          (err: unknown) => (err ? reject(err as Error) : resolve()),
        ),
      ),
  );

const noriPublish = (): Promise<number> => inWindows(COUNT, WINDOW, (i) => producer.publish({ ...body, id: i }, { routingKey: noriQueue.name }));

/** Without confirms a publish is done once written: wait until the broker holds all of them. */
async function untilQueued(queue: string): Promise<void> {
  while ((await rawPub.checkQueue(queue)).messageCount < COUNT) await new Promise((r) => setTimeout(r, 5));
}

const rawPlain = await raw.createChannel();
const rawPublishUnconfirmed = async (): Promise<number> => {
  for (let i = 0; i < COUNT; i++) {
    const ok = rawPlain.publish('', rawQueue, Buffer.from(JSON.stringify({ ...body, id: i })), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      headers: {},
    });
    if (!ok) await once(rawPlain, 'drain');
  }
  await untilQueued(rawQueue);
  return COUNT;
};

const unconfirmed = conn.producer({ confirms: false });
const noriPublishUnconfirmed = async (): Promise<number> => {
  await inWindows(COUNT, WINDOW, (i) => unconfirmed.publish({ ...body, id: i }, { routingKey: noriQueue.name }));
  await untilQueued(noriQueue.name);
  return COUNT;
};

const bench = new Bench('amqp transport', {
  messageBytes: JSON.stringify(body).length,
  count: COUNT,
  publishWindow: WINDOW,
  prefetch: PREFETCH,
  rabbitmq: String(raw.connection.serverProperties.version ?? ''),
  amqplib: packageVersion('amqplib'),
});

bench.add({
  group: 'publish (confirmed)',
  name: 'amqplib confirm channel',
  baseline: true,
  unit: 'msg/s',
  setup: () => rawPub.purgeQueue(rawQueue).then(() => undefined),
  run: rawPublish,
});
bench.add({
  group: 'publish (confirmed)',
  name: 'nori producer.publish',
  unit: 'msg/s',
  setup: () => conn.purge(noriQueue).then(() => undefined),
  run: noriPublish,
});

bench.add({
  group: 'publish (confirms: false)',
  name: 'amqplib channel',
  baseline: true,
  unit: 'msg/s',
  setup: () => rawPub.purgeQueue(rawQueue).then(() => undefined),
  run: rawPublishUnconfirmed,
});
bench.add({
  group: 'publish (confirms: false)',
  name: 'nori producer.publish',
  unit: 'msg/s',
  setup: () => conn.purge(noriQueue).then(() => undefined),
  run: noriPublishUnconfirmed,
});

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
  run: () => consumeAll(conn, noriQueue, COUNT, { prefetch: PREFETCH, concurrency: 100 }),
});

await bench.run();
await rawPub.deleteQueue(rawQueue);
await conn.deleteQueue(noriQueue);
await conn.close();
await raw.close();
