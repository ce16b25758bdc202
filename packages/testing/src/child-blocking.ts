/**
 * A consumer for the stale-ack test. With a flag file, its handler blocks the event loop (a
 * CPU-bound task) until the file exists, then acks; with flag '-', it holds its message for good
 * (renewing the lease) until the parent kills it. Prints `ready`, `got <id>` when the handler
 * starts, `done` when it acked, and `error <code>` for each error event of the connection.
 * argv: url, queue, flag file or '-', JSON connection options, JSON list of modules to import first.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, NoriError, Queue } from '@nori/core';

const [url = '', queue = '', flag = '', options = '{}', imports = '[]'] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
for (const name of JSON.parse(imports) as string[]) await import(pathToFileURL(require.resolve(name)).href);

const conn = new Connection(url, JSON.parse(options) as Record<string, never>);
conn.on('error', (error) => process.stdout.write(`error ${error instanceof NoriError ? error.code : error.name}\n`));
const consumer = conn.consumer([new Queue(queue)], { prefetch: 1 }, async (message) => {
  process.stdout.write(`got ${(message.body as { id: string }).id}\n`);
  if (flag === '-') await new Promise(() => undefined);
  while (!existsSync(flag)) {
    // Busy: no timer, no I/O, no lease renewal runs in this process meanwhile.
  }
  await message.ack();
  process.stdout.write('done\n');
});
await consumer.start();
process.stdout.write('ready\n');
