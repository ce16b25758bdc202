/**
 * The README's first command runs this: messages routed through a topic exchange and a fanout
 * exchange on `memory://` (no server needed), and what each consumer received.
 * Swap the URL for 'redis://127.0.0.1:6379/0' or 'amqp://guest:guest@127.0.0.1//' (after
 * installing @nori/redis or @nori/amqp) and nothing else changes.
 */
import { Connection, Exchange, Queue, type Message } from '@nori/core';

const url = process.argv[2] ?? 'memory://';
const conn = new Connection(url);

const media = new Exchange('demo.media', { type: 'topic' });
const alerts = new Exchange('demo.alerts', { type: 'fanout' });
const queues = [
  new Queue('demo.video', { exchange: media, routingKey: 'video.#' }),
  new Queue('demo.audio', { exchange: media, routingKey: 'audio.*' }),
  new Queue('demo.email', { exchange: alerts }),
  new Queue('demo.sms', { exchange: alerts }),
];

const received = new Map<string, string[]>(queues.map((q) => [q.name, []]));
const expected = 7;
let count = 0;
let allReceived!: () => void;
const done = new Promise<void>((resolve) => (allReceived = resolve));

const consumers = queues.map((queue) =>
  conn.consumer([queue], { prefetch: 10 }, async (message: Message) => {
    const body = message.body as { text: string };
    const { exchange, routingKey } = message.deliveryInfo;
    received.get(queue.name)?.push(`${body.text}  [${exchange} ${routingKey || '(no key)'}]`);
    await message.ack();
    if (++count === expected) allReceived();
  }),
);
for (const consumer of consumers) await consumer.start();

const producer = conn.producer();
const publish = (exchange: Exchange, routingKey: string, text: string): Promise<void> => producer.publish({ text }, { exchange, routingKey });

await publish(media, 'video.mp4', 'a video');
await publish(media, 'video.hd.mkv', 'an HD video'); // '#' matches two words
await publish(media, 'audio.mp3', 'a song');
await publish(media, 'audio.live.aac', 'a live stream'); // '*' is one word: nobody gets this
await publish(media, 'image.png', 'a picture'); // unroutable: dropped
await publish(alerts, '', 'disk almost full'); // fanout: every bound queue gets a copy
await publish(alerts, '', 'backup done');

const timeout = setTimeout(() => {
  console.error(`demo: only ${count} of ${expected} messages arrived`);
  process.exit(1);
}, 10_000);
await done;
clearTimeout(timeout);

console.log(`nori demo on ${conn.info().url}\n`);
for (const [queue, bodies] of received) {
  console.log(`${queue} received ${bodies.length}:`);
  for (const b of bodies) console.log(`  - ${b}`);
}
await conn.close();
