/**
 * Child process for the retry fault test: a consumer whose handler always throws, with a retry
 * policy. Its logger's debug line "retry republished; acking the original" comes after the
 * republish is confirmed and before the original is acked: there the child prints
 * `republished <attempt>` and blocks its thread for good, so the parent's SIGKILL lands exactly
 * between republish and ack.
 * argv: url, queue, leaseMs, JSON list of transport modules to import (resolved from the repo root).
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, Queue, type Logger } from '@nori/core';
import { AMQP_TRANSPORT_OPTIONS } from '@nori/testing/brokers';

const [url = '', queue = '', leaseMs = '1000', imports = '[]'] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
for (const name of JSON.parse(imports) as string[]) await import(pathToFileURL(require.resolve(name)).href);

const noop = (): void => undefined;
const logger: Logger = {
  debug(obj, msg) {
    if (msg !== 'nori consumer: retry republished; acking the original') return;
    writeSync(1, `republished ${(obj as { attempt: number }).attempt}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  },
  info: noop,
  warn: noop,
  error: noop,
};
// On RabbitMQ the retry waits in a delay level: a short idle time, so the level goes after the test.
const conn = new Connection(url, { logger, transportOptions: { ...AMQP_TRANSPORT_OPTIONS, leaseMs: Number(leaseMs) } });
const consumer = conn.consumer(
  [new Queue(queue)],
  { prefetch: 1, retry: { attempts: 3, backoff: { type: 'fixed', delay: 500, jitter: false } } },
  (message) => {
    writeSync(1, `handled ${(message.body as { id: string }).id}\n`);
    throw new Error('always fails');
  },
);
await consumer.start();
writeSync(1, 'ready\n');
