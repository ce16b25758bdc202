/**
 * A connection closed mid-way, in a process of its own, for the close tests: the parent sees the
 * process exit at once after `closed` when nothing of the connection is left pending (a timer, a
 * socket). Modes: `live` (a consumer waiting on an empty queue and a publish, then close);
 * `dead` (ensureConnection to an unreachable URL, closed during its retry: prints `rejected
 * <code>` for it and `reconnect <code>` for a connect afterwards). Prints `closed` after close().
 * argv: mode, url, queue, JSON connection options, JSON list of modules to import first.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, NoriError, Queue, sleep, type ConnectionOptions } from '@nori/core';

const [mode = '', url = '', queue = '', options = '{}', imports = '[]'] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
for (const name of JSON.parse(imports) as string[]) await import(pathToFileURL(require.resolve(name)).href);

const print = (line: string): boolean => process.stdout.write(`${line}\n`);
const code = (error: unknown): string => (error instanceof NoriError ? error.code : String(error));
const conn = new Connection(url, JSON.parse(options) as ConnectionOptions);
conn.on('error', () => undefined);

if (mode === 'live') {
  const q = new Queue(queue);
  await conn.consumer([q], () => undefined).start();
  await conn.producer().publish({ n: 1 }, { routingKey: `${queue}-other`, declare: [new Queue(`${queue}-other`)] });
  await sleep(200); // the consumer is waiting for its first message
  await conn.deleteQueue(q);
  await conn.deleteQueue(`${queue}-other`);
  await conn.close();
} else {
  const pending = conn.ensureConnection({ maxRetries: 100, intervalStart: 5000 });
  const settled = pending.then(
    () => 'connected',
    (error: unknown) => `rejected ${code(error)}`,
  );
  await sleep(300); // the first attempt failed: it sleeps before the next
  await conn.close();
  print(await settled);
  print(
    await conn.connect().then(
      () => 'reconnect connected',
      (error: unknown) => `reconnect ${code(error)}`,
    ),
  );
}
print('closed');
