// Deletes what a task app and its worker declared on the broker: the queue, the exchange of its
// name, the mailbox and reply exchanges and the event exchange.
// Usage: node cleanup.mjs <broker url> <queue> <control exchange> <event exchange>
import { Connection } from '@nori/core';

const [url, queue, control, events] = process.argv.slice(2);
const conn = new Connection(url);
try {
  await conn.deleteQueue(queue);
  for (const exchange of [queue, `${control}.pidbox`, `reply.${control}.pidbox`, events]) await conn.deleteExchange(exchange);
} finally {
  await conn.close();
}
