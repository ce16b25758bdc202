/**
 * The README's consumer example, runnable: typed bodies checked by a schema, a retry policy,
 * OpenTelemetry spans, and `await using`. Runs on memory:// or the URL given as the first argument.
 *   node --conditions=nori-src --import tsx examples/consumer.ts [redis://127.0.0.1:6379/0]
 */
import { randomUUID } from 'node:crypto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { Connection, Queue } from '@nori/core';
import { NoriInstrumentation } from '@nori/opentelemetry';
import '@nori/redis';

const url = process.argv[2] ?? 'memory://';
const spans = new InMemorySpanExporter();
const tracing = new NoriInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }) }).enable();

const Order = z.object({ id: z.number(), sku: z.string() });
const orders = new Queue(`example-orders-${randomUUID().slice(0, 8)}`);
let busy = true;

{
  await using conn = new Connection(url); // closed when this block ends, however it ends
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let shipped = 0;
  const consumer = conn.consumer(
    [orders],
    { schema: Order, retry: { attempts: 3, backoff: { type: 'exponential', delay: 200, jitter: false } } },
    (message) => {
      // message.body is { id: number; sku: string }: returning acks, throwing retries.
      const attempt = Number(message.headers['x-nori-attempt'] ?? 1);
      if (message.body.id === 1 && busy) {
        busy = false;
        throw new Error('warehouse busy');
      }
      console.log(`shipped order ${message.body.id} (${message.body.sku}) on attempt ${attempt}`);
      if (++shipped === 2) finished();
    },
  );
  consumer.on('error', (error) => console.log(`error event: ${error.name}: ${error.message.split(':')[0]}`));
  await consumer.start();

  const producer = conn.producer();
  await producer.publish<z.input<typeof Order>>({ id: 1, sku: 'A-1' }, { routingKey: orders.name, declare: [orders] });
  await producer.publish({ id: 'two' }, { routingKey: orders.name }); // fails the schema: rejected, never handled
  await producer.publish<z.input<typeof Order>>({ id: 3, sku: 'C-3' }, { routingKey: orders.name });
  await done;
  await conn.deleteQueue(orders);
}

tracing.disable();
const finishedSpans = spans.getFinishedSpans();
const byId = new Map(finishedSpans.map((s) => [s.spanContext().spanId, s.name.replace(orders.name, 'orders')]));
for (const span of finishedSpans) {
  const parent = span.parentSpanContext ? byId.get(span.parentSpanContext.spanId) : undefined;
  console.log(`span ${span.name.replace(orders.name, 'orders')}${parent ? ` <- ${parent}` : ''}`);
}
