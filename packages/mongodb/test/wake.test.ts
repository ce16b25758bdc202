/**
 * How a consumer learns of a message another process published. With a change stream (a replica
 * set) it is woken at once; without one (CongoDB, a standalone mongod) it finds the message on its
 * next poll, at most `pollMaxMs` later. The change-stream case is skipped, not passed, where the
 * server has none.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { Connection, Queue, silentLogger, parseUrl, type Message } from '@nori/core';
import { MongoStore, supportsChangeStreams } from '@nori/mongodb';
import { mongoUrl, startServer, stopServer } from './server.js';

let changeStreams = false;

beforeAll(async () => {
  await startServer();
  const client = await MongoClient.connect(mongoUrl);
  changeStreams = await supportsChangeStreams(client.db());
  await client.close();
});
afterAll(stopServer);

const POLL = { pollMinMs: 400, pollMaxMs: 3200 };

/** Lets the consumer's poll back off to its maximum, publishes from another connection, and times the delivery. */
async function latencyOfForeignPublish(queueName: string, changeStreamsOption: boolean): Promise<number> {
  const consumerConn = new Connection(mongoUrl, { transportOptions: { ...POLL, changeStreams: changeStreamsOption } });
  const publisherConn = new Connection(mongoUrl, { transportOptions: { changeStreams: false } });
  const queue = new Queue(queueName);
  try {
    let received: (message: Message) => void = () => undefined;
    const arrived = new Promise<Message>((resolve) => (received = resolve));
    const consumer = consumerConn.consumer([queue], async (message) => {
      await message.ack();
      received(message);
    });
    await consumer.start();
    await new Promise((resolve) => setTimeout(resolve, 5000)); // 400+800+1600+3200 ms: backed off to the maximum
    const sentAt = Date.now();
    await publisherConn.producer().publish({ n: 1 }, { routingKey: queueName, declare: [queue] });
    const message = await arrived;
    expect(message.body).toEqual({ n: 1 });
    await consumer.stop();
    return Date.now() - sentAt;
  } finally {
    await consumerConn.close();
    await publisherConn.close();
  }
}

it('reports which wake-up it uses: a change stream only where the server has them', async () => {
  const store = new MongoStore(parseUrl(mongoUrl), { transportOptions: {}, logger: silentLogger, connectTimeout: 2000 });
  await store.connect();
  try {
    expect(store.wakeSource).toBe(changeStreams ? 'change-stream' : 'poll');
  } finally {
    await store.close();
  }
});

it('without a change stream, a foreign publish is found by the next poll, within pollMaxMs', async () => {
  const latency = await latencyOfForeignPublish('wake.poll', false);
  expect(latency).toBeLessThan(POLL.pollMaxMs + 500);
}, 20_000);

it('with a change stream, a foreign publish wakes an idle consumer at once', async (ctx) => {
  if (!changeStreams) ctx.skip(); // the server has no change streams (not a replica set)
  const latency = await latencyOfForeignPublish('wake.stream', true);
  expect(latency).toBeLessThan(300);
}, 20_000);
