/**
 * A consumer that never settles (its handlers never finish), for kill-and-redeliver tests: it
 * prints `ready`, then the id of each message it receives, one per line, until its parent kills it.
 * argv: url, queue, prefetch, JSON connection options, JSON list of modules to import first.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, Queue } from '@nori/core';

const [url = '', queue = '', prefetch = '10', options = '{}', imports = '[]'] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
for (const name of JSON.parse(imports) as string[]) await import(pathToFileURL(require.resolve(name)).href);

const conn = new Connection(url, JSON.parse(options) as Record<string, never>);
// Handlers never finish (a returning handler acks), so every message stays in flight.
const consumer = conn.consumer([new Queue(queue)], { prefetch: Number(prefetch), concurrency: Number(prefetch) }, (message) => {
  process.stdout.write(`${(message.body as { id: string }).id}\n`);
  return new Promise<void>(() => undefined);
});
await consumer.start();
process.stdout.write('ready\n');
