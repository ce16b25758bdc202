/**
 * Child process for the kill test: prints each id it received (with ' redelivered' when it was) (synchronously, before acking it, so
 * a SIGKILL can never swallow a delivery the parent should have heard about), then acks.
 * argv: url, queue, leaseMs.
 */
import { writeSync } from 'node:fs';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';

const [url = '', queue = '', leaseMs = '1000'] = process.argv.slice(2);
const conn = new Connection(url, { transportOptions: { leaseMs: Number(leaseMs) } });

// One write per batch of deliveries; each handler acks once its id is on stdout.
let pending: string[] = [];
let flushed: Promise<void> | undefined;
function reported(line: string): Promise<void> {
  pending.push(line);
  flushed ??= new Promise((resolve) =>
    setImmediate(() => {
      writeSync(1, `${pending.join('\n')}\n`);
      pending = [];
      flushed = undefined;
      resolve();
    }),
  );
  return flushed;
}

const consumer = conn.consumer([new Queue(queue)], { prefetch: 100, concurrency: 20 }, async (message) => {
  const id = (message.body as { id: number }).id;
  await reported(message.redelivered ? `${id} redelivered` : String(id));
  await message.ack();
});
await consumer.start();
writeSync(1, 'ready\n');
