// Deletes what the tasks check declared on the broker: its queue, mailbox and event exchanges.
import { Connection } from '@nori/core';

const env = process.env;
const conn = new Connection(env.NORI_CHECK_BROKER);
try {
  await conn.deleteQueue(env.NORI_CHECK_QUEUE);
  const control = env.NORI_CHECK_CONTROL_EXCHANGE;
  for (const exchange of [env.NORI_CHECK_QUEUE, `${control}.pidbox`, `reply.${control}.pidbox`, env.NORI_CHECK_EVENT_EXCHANGE])
    await conn.deleteExchange(exchange);
} finally {
  await conn.close();
}
