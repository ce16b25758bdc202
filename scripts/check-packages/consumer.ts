// A TypeScript user's code against the published declarations, compiled as ESM (node16), as
// CommonJS (node16 resolution, module node20: require of ESM) and for bundlers.
import { Connection, Exchange, Queue, UrlError, type Message, type ConnectionInfo } from '@nori/core';
import '@nori/redis';

interface Job {
  id: number;
  file: string;
}

export async function run(url: string): Promise<ConnectionInfo> {
  const conn = new Connection(url);
  const media = new Exchange('media', { type: 'topic' });
  const video = new Queue('video', { exchange: media, routingKey: 'video.#' });
  await conn.producer({ serializer: 'json' }).publish({ id: 1, file: 'a.mp4' } satisfies Job, { exchange: media, routingKey: 'video.mp4', declare: [video] });
  const consumer = conn.consumer([video], { prefetch: 10, accept: ['json'] }, async (message: Message) => {
    const job = message.body as Job;
    if (job.file.length === 0) await message.reject();
  });
  await consumer.start();
  await consumer.stop();
  const error: unknown = new UrlError('x');
  if (error instanceof UrlError && error.code !== 'ERR_NORI_URL') throw error;
  await conn.close();
  return conn.info();
}
