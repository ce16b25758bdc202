/** Raw amqplib: consume with the nori worker's prefetch, parse and ack each message. */
import amqplib from 'amqplib';
import type { AmqplibWorkerSpec, StartWorker } from '../lib/worker-process.js';

export const startAmqplibConsumer: StartWorker<AmqplibWorkerSpec> = async (spec, finished) => {
  const connection = await amqplib.connect(spec.url);
  const channel = await connection.createChannel();
  await channel.prefetch(spec.prefetch);
  await channel.consume(spec.queue, (m) => {
    if (!m) return;
    JSON.parse(m.content.toString());
    channel.ack(m);
    finished();
  });
  return async () => {
    await channel.close();
    await connection.close();
  };
};
