/**
 * A consumer without acks for broadcast traffic (event receivers, the control mailbox): messages
 * count as settled on delivery, nothing is prefetch-limited, errors go to `onError`, no tracing
 * span (the workers' own traffic, see events/tracing.ts).
 */
import type { Connection, Consumer, Message, Queue } from '@nori/core';

export async function startBroadcastConsumer(
  connection: Connection,
  queue: Queue,
  options: { accept: readonly string[]; concurrency?: number; onError: (error: Error) => void },
  handler: (message: Message) => void | Promise<void>,
): Promise<Consumer> {
  const consumer = connection.consumer(
    [queue],
    { noAck: true, prefetch: 0, accept: options.accept, trace: false, ...(options.concurrency !== undefined && { concurrency: options.concurrency }) },
    handler,
  );
  consumer.on('error', (error) => options.onError(error));
  await consumer.start();
  return consumer;
}
