/**
 * A nori worker in a process of its own, traced into an in-memory exporter:
 * `node --conditions=nori-src --import tsx task-worker-process.ts <broker> <queue>`, with the test
 * file's mailbox and event exchange in NORI_CONTROL_EXCHANGE / NORI_EVENT_EXCHANGE. Prints `ready`
 * once it consumes; on SIGTERM it stops and prints its finished spans as one JSON line.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import '@nori/redis';
import { NoriInstrumentation } from '@nori/opentelemetry';
import { App } from '@nori/tasks';

const [broker, queue] = process.argv.slice(2) as [string, string];
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
new NoriInstrumentation({ tracerProvider: provider }).enable();

const app = new App({
  broker,
  backend: broker,
  defaultQueue: queue,
  controlExchange: process.env['NORI_CONTROL_EXCHANGE']!,
  eventExchange: process.env['NORI_EVENT_EXCHANGE']!,
});
app.task('otel.remote', (x: number, y: number) => {
  provider.getTracer('test').startSpan('inside remote').end();
  return x + y;
});
const worker = app.worker({ concurrency: 2 });
await worker.start();
console.log('ready');

process.once('SIGTERM', () => {
  void (async () => {
    await worker.stop();
    await app.close();
    const spans = exporter.getFinishedSpans().map((s) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId,
      attributes: s.attributes,
      status: s.status,
    }));
    console.log(JSON.stringify(spans));
    process.exit(0);
  })();
});
