/**
 * A consumer whose handler blocks its event loop (a CPU-bound task) until a flag file exists, then
 * acks its message: the stale-ack test. Prints `ready`, `got <id>` when the handler
 * starts, `done` when it returns, and `error <code>` for each error event of the connection.
 * argv: url, queue, flag file, JSON connection options, JSON list of modules to import first.
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
  while (!existsSync(flag)) {
    // Busy: no timer, no I/O, no lease renewal runs in this process meanwhile.
  }
  process.stdout.write('done\n');
  await message.ack();
});
await consumer.start();
process.stdout.write('ready\n');
