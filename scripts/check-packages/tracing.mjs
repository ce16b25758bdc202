// @nori/opentelemetry with the OpenTelemetry SDK: a publish and its processing are recorded as a
// PRODUCER and a CONSUMER span of one trace, the consumer's parent being the producer.
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Connection, Queue } from '@nori/core';
import { NoriInstrumentation } from '@nori/opentelemetry';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const instrumentation = new NoriInstrumentation({ tracerProvider: provider }).enable();
const conn = new Connection('memory://');
const queue = new Queue('traced');
try {
  await conn.producer().publish({ traced: true }, { routingKey: queue.name, declare: [queue] });
  let processed;
  const done = new Promise((resolve) => (processed = resolve));
  const consumer = conn.consumer([queue], () => processed());
  await consumer.start();
  await done;
  await consumer.stop();
} finally {
  await conn.close();
  instrumentation.disable();
}
const spans = exporter.getFinishedSpans();
const publish = spans.find((s) => s.kind === SpanKind.PRODUCER);
const consume = spans.find((s) => s.kind === SpanKind.CONSUMER);
if (!publish || !consume) throw new Error(`expected a PRODUCER and a CONSUMER span, got ${spans.map((s) => `${s.name} (${s.kind})`).join(', ')}`);
if (consume.spanContext().traceId !== publish.spanContext().traceId || consume.parentSpanContext?.spanId !== publish.spanContext().spanId)
  throw new Error('the CONSUMER span is not a child of the PRODUCER span');
console.log(`ok: @nori/opentelemetry recorded "${publish.name}" and its child "${consume.name}"`);
