import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import '@nori/amqp';
import '@nori/redis';
import { Connection, Queue, type Message } from '@nori/core';
import { NoriInstrumentation } from '@nori/opentelemetry';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const instrumentation = new NoriInstrumentation({ tracerProvider: provider });

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  instrumentation.enable();
});
afterAll(async () => {
  instrumentation.disable();
  context.disable();
  await provider.shutdown();
});

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const brokers = [
  { url: AMQP_URL, system: 'rabbitmq', host: new URL(AMQP_URL).hostname, port: Number(new URL(AMQP_URL).port || 5672) },
  { url: redisUrl(), system: 'redis', host: new URL(redisUrl()).hostname, port: Number(new URL(redisUrl()).port || 6379) },
] as const;

describe.each(brokers)('OpenTelemetry spans on $system', ({ url, system, host, port }) => {
  it('publish on one connection, consume on another: the process span is a child of the publish span, attributes per the conventions', async () => {
    exporter.reset();
    const queue = new Queue(`nori-otel-${system}-${randomUUID().slice(0, 8)}`);
    const publisher = new Connection(url);
    const consumerConn = new Connection(url);
    try {
      const body = { order: 42 };
      await publisher.producer().publish(body, { routingKey: queue.name, declare: [queue], messageId: 'm-1', correlationId: 'c-1' });
      const received: Message[] = [];
      const consumer = consumerConn.consumer([queue], (m) => {
        received.push(m);
        provider.getTracer('app').startSpan('inside handler').end();
      });
      await consumer.start();
      await until(() => received.length === 1 && exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 'the process span');
      await consumer.stop();

      const spans = exporter.getFinishedSpans();
      const publish = spans.find((s) => s.kind === SpanKind.PRODUCER) as ReadableSpan;
      const process = spans.find((s) => s.kind === SpanKind.CONSUMER) as ReadableSpan;
      const inner = spans.find((s) => s.name === 'inside handler') as ReadableSpan;
      expect(publish.name).toBe(`publish ${queue.name}`);
      expect(process.name).toBe(`process ${queue.name}`);
      expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
      expect(parentOf(process)).toBe(publish.spanContext().spanId);
      expect(parentOf(inner)).toBe(process.spanContext().spanId);

      const size = Buffer.byteLength(JSON.stringify(body));
      expect(publish.attributes).toMatchObject({
        'messaging.system': system,
        'messaging.operation.type': 'publish',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': system === 'rabbitmq' ? '' : queue.name,
        'messaging.message.id': 'm-1',
        'messaging.message.conversation_id': 'c-1',
        'messaging.message.body.size': size,
        'server.address': host,
        'server.port': port,
      });
      expect(process.attributes).toMatchObject({
        'messaging.system': system,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': queue.name,
        'messaging.message.id': 'm-1',
        'messaging.message.body.size': size,
      });
      if (system === 'rabbitmq') {
        expect(publish.attributes['messaging.rabbitmq.destination.routing_key']).toBe(queue.name);
        expect(process.attributes['messaging.rabbitmq.destination.routing_key']).toBe(queue.name);
      }
      const sampled = publish.spanContext().traceFlags & 1;
      expect(received[0]?.headers['traceparent']).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-0${sampled}`);
    } finally {
      await consumerConn.deleteQueue(queue).catch(() => undefined);
      await Promise.all([publisher.close(), consumerConn.close()]);
    }
  });

  it('a handler that throws ends its process span with an error status', async () => {
    exporter.reset();
    const queue = new Queue(`nori-otel-err-${system}-${randomUUID().slice(0, 8)}`);
    const conn = new Connection(url);
    try {
      await conn.producer().publish({ n: 1 }, { routingKey: queue.name, declare: [queue] });
      const consumer = conn.consumer([queue], { retry: false }, () => {
        throw new Error('handler broke');
      });
      consumer.on('error', () => undefined);
      await consumer.start();
      await until(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 'the process span');
      await consumer.stop();
      const process = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER) as ReadableSpan;
      expect(process.status).toEqual({ code: SpanStatusCode.ERROR, message: 'handler broke' });
      expect(process.attributes['error.type']).toBe('Error');
      expect(process.events.map((e) => e.name)).toEqual(['exception']);
    } finally {
      await conn.deleteQueue(queue).catch(() => undefined);
      await conn.close();
    }
  });
});
