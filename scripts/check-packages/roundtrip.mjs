// An npm user's first program, run against the packed tarballs: publish three messages and consume
// them. The broker URL is the only argument, so the same file runs on redis:// and amqp://.
import { randomUUID } from 'node:crypto';
import { Connection, Queue } from '@nori/core';

const url = process.argv[2];
const conn = new Connection(url);
const queue = new Queue(`check-packages-${randomUUID()}`);
try {
  await conn.producer().publish({ n: 0 }, { routingKey: queue.name, declare: [queue] });
  for (const n of [1, 2]) await conn.producer().publish({ n }, { routingKey: queue.name });
  const seen = [];
  for await (const message of conn.consume([queue], { prefetch: 1 })) {
    seen.push(message.body.n);
    await message.ack();
    if (seen.length === 3) break;
  }
  if (seen.join() !== '0,1,2') throw new Error(`expected messages 0,1,2 in order, got ${seen.join()}`);
  console.log(`ok: ${conn.info().transport} published and consumed 3 messages (${conn.info().url})`);
} finally {
  await conn.deleteQueue(queue).catch(() => undefined);
  await conn.close();
}
