/**
 * A consumer whose handler blocks the event loop, for the lease tests. Modes: a flag file path (the
 * handler blocks, as a CPU-bound task does, until the file exists, then acks); `block:<ms>` (the
 * first message's handler blocks that long, the others ack at once); '-' (it holds its message for
 * good, renewing the lease, until the parent kills it). Prints `ready`, `keeper` once the lease
 * keeper's thread is connected (so leases outlive a blocked loop from then on), `got <id>` when a
 * handler starts, `done <id>` when it acked, and `error <code>` for each error event of the
 * connection or the consumer.
 * argv: url, queue, mode, JSON connection options, JSON list of modules to import first, prefetch.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, NoriError, Queue, silentLogger, type ConnectionOptions } from '@nori/core';

const [url = '', queue = '', mode = '', options = '{}', imports = '[]', prefetch = '1'] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
for (const name of JSON.parse(imports) as string[]) await import(pathToFileURL(require.resolve(name)).href);

const print = (line: string): boolean => process.stdout.write(`${line}\n`);
const printError = (error: Error): boolean => print(`error ${error instanceof NoriError ? error.code : error.name}`);

/** Busy: no timer, no I/O, no lease renewal in this thread meanwhile. */
function blockUntil(done: () => boolean): void {
  while (!done()) {
    // spin
  }
}

let blocked = false;
const logger = { ...silentLogger, debug: (_: object | string, msg?: string) => msg?.includes('lease keeper connected') && print('keeper') };
const conn = new Connection(url, { ...(JSON.parse(options) as ConnectionOptions), logger });
conn.on('error', printError);
const consumer = conn.consumer([new Queue(queue)], { prefetch: Number(prefetch) }, async (message) => {
  const id = (message.body as { id: string }).id;
  print(`got ${id}`);
  if (mode === '-') await new Promise(() => undefined);
  if (mode.startsWith('block:')) {
    if (!blocked) {
      blocked = true;
      const until = Date.now() + Number(mode.slice('block:'.length));
      blockUntil(() => Date.now() >= until);
    }
  } else {
    blockUntil(() => existsSync(mode));
  }
  await message.ack();
  print(`done ${id}`);
});
consumer.on('error', printError);
await consumer.start();
print('ready');
