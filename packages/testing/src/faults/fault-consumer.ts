/**
 * Child process for the kill test: prints each id it received (with ' redelivered' when it was) (synchronously, before acking it, so
 * a SIGKILL can never swallow a delivery the parent should have heard about), then acks.
 * argv: url, queue, leaseMs, JSON list of transport modules to import (resolved from the working directory: the project under test),
 * and optionally ms each handler takes (so a fast broker's stream lasts long enough to be cut).
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, Queue } from '@nori/core';

const [url = '', queue = '', leaseMs = '1000', imports = '[]', handleMs = '0'] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
for (const name of JSON.parse(imports) as string[]) await import(pathToFileURL(require.resolve(name)).href);
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

// At-least-once under kills is what these runs check, so no redelivery bound: a message held by
// several killed consumers in a row (or whose 1 s lease an overloaded emulator let lapse while its
// consumer lived) must still arrive. The bound (`maxLapses`) has tests of its own in the suite.
const consumer = conn.consumer([new Queue(queue)], { prefetch: 100, concurrency: 20, maxLapses: Infinity }, async (message) => {
  const id = (message.body as { id: number }).id;
  if (handleMs !== '0') await new Promise((resolve) => setTimeout(resolve, Number(handleMs)));
  await reported(message.redelivered ? `${id} redelivered` : String(id));
  await message.ack();
});
await consumer.start();
writeSync(1, 'ready\n');
