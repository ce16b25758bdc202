/**
 * Task-level spans, as opentelemetry-instrumentation-celery names them, with the SDK's in-memory
 * exporter on Redis: `apply_async/<task>` (PRODUCER) and `run/<task>` (CONSUMER) with the task's
 * id, name, retries and state; ERROR with the exception on a failure and on a retry; the retry's
 * send a child of the run that retried; no span for remote control, events or results; parentage
 * across two processes; and a trace started by Python Celery (`traceparent` in the message
 * headers, as its instrumentation writes it) continued by the nori worker.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Connection } from '@nori/core';
import '@nori/redis';
import { NoriInstrumentation } from '@nori/opentelemetry';
import { App, currentTask, TaskError, type Worker } from '@nori/tasks';
import { TestNames } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';
import { CELERY_NAMES, CELERY_NAMES_ENV, deleteCeleryNames } from '../../tasks/test/celery-names.js';
import { pythonSend } from '../../tasks/test/python/celery.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const instrumentation = new NoriInstrumentation({ tracerProvider: provider });
const BROKER = redisUrl();
const names = new TestNames('otel-tasks');
const QUEUE = names.name('q');
const REMOTE_QUEUE = names.name('remote');

let app: App;
let worker: Worker;

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const spanId = (span: ReadableSpan): string => span.spanContext().spanId;
const named = (name: string, taskId?: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((s) => s.name === name && (taskId === undefined || s.attributes['messaging.message.id'] === taskId));

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; spans: ${exporter.getFinishedSpans().map((s) => s.name)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  instrumentation.enable();
  app = new App({ broker: BROKER, backend: redisUrl(1), defaultQueue: QUEUE, resultExpires: 60_000, ...CELERY_NAMES });
  app.task('otel.add', (x: number, y: number) => {
    provider.getTracer('test').startSpan('inside add').end();
    return x + y;
  });
  app.task('otel.fail', (message: string) => {
    throw new TypeError(message);
  });
  app.task('otel.flaky', () => {
    const ctx = currentTask();
    if (ctx.retries === 0) ctx.retry({ countdown: 50, exc: new RangeError('not yet') });
    return ctx.retries;
  });
  worker = app.worker({ concurrency: 4, sendEvents: true });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await app?.close();
  instrumentation.disable();
  context.disable();
  await provider.shutdown();
  const conn = new Connection(BROKER);
  try {
    for (const queue of [QUEUE, REMOTE_QUEUE]) {
      await conn.deleteQueue(queue).catch(() => undefined);
      await conn.deleteExchange(queue).catch(() => undefined);
    }
    await deleteCeleryNames(conn);
  } finally {
    await conn.close();
  }
});

describe('task spans (in one process, Redis)', () => {
  it('apply_async/<task> and its child run/<task>, with the id, name, state and the worker; spans the task starts are children of the run', async () => {
    const result = await app.sendTask('otel.add', [2, 3]);
    expect(await result.get({ timeout: 10_000 })).toBe(5);
    await until(() => named('run/otel.add', result.id).length === 1, 'the run span');
    const [send] = named('apply_async/otel.add', result.id);
    const [run] = named('run/otel.add', result.id);
    const [inside] = named('inside add');
    expect(send!.kind).toBe(SpanKind.PRODUCER);
    expect(send!.attributes).toEqual({
      'celery.action': 'apply_async',
      'celery.task_name': 'otel.add',
      'messaging.message.id': result.id,
      'messaging.system': 'redis',
      'messaging.operation.type': 'publish',
      'messaging.operation.name': 'apply_async',
      'messaging.destination.name': QUEUE,
    });
    expect(run!.kind).toBe(SpanKind.CONSUMER);
    expect(run!.attributes).toEqual({
      'celery.action': 'run',
      'celery.task_name': 'otel.add',
      'messaging.message.id': result.id,
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'run',
      'messaging.destination.name': QUEUE,
      'celery.hostname': worker.hostname,
      'celery.state': 'SUCCESS',
    });
    expect(run!.status.code).toBe(SpanStatusCode.UNSET);
    expect(run!.spanContext().traceId).toBe(send!.spanContext().traceId);
    expect(parentOf(run!)).toBe(spanId(send!));
    expect(parentOf(inside!)).toBe(spanId(run!));
  });

  it('a failing task: its run span is ERROR with the exception recorded and celery.state FAILURE', async () => {
    const result = await app.sendTask('otel.fail', ['broken on purpose']);
    await expect(result.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskError);
    await until(() => named('run/otel.fail', result.id).length === 1, 'the run span');
    const [run] = named('run/otel.fail', result.id);
    expect(run!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'broken on purpose' });
    expect(run!.attributes['celery.state']).toBe('FAILURE');
    expect(run!.attributes['error.type']).toBe('TypeError');
    expect(run!.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']])).toEqual([
      ['exception', 'TypeError', 'broken on purpose'],
    ]);
  });

  it('a retry: the first run is ERROR with the reason, the retry is sent from inside it, and the second run succeeds with celery.retries 1', async () => {
    const result = await app.sendTask('otel.flaky', []);
    expect(await result.get({ timeout: 10_000 })).toBe(1);
    await until(() => named('run/otel.flaky', result.id).length === 2, 'both run spans');
    const sends = named('apply_async/otel.flaky', result.id);
    const runs = named('run/otel.flaky', result.id);
    const [first, second] = [runs.find((s) => s.attributes['celery.retries'] === undefined)!, runs.find((s) => s.attributes['celery.retries'] === 1)!];
    const [firstSend, retrySend] = [sends.find((s) => s.attributes['celery.retries'] === undefined)!, sends.find((s) => s.attributes['celery.retries'] === 1)!];
    expect(first.attributes['celery.state']).toBe('RETRY');
    expect(first.attributes['celery.retry.reason']).toBe('not yet');
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'not yet' });
    expect(first.events.map((e) => e.attributes?.['exception.type'])).toEqual(['RangeError']);
    expect(parentOf(first)).toBe(spanId(firstSend));
    expect(parentOf(retrySend)).toBe(spanId(first));
    expect(parentOf(second)).toBe(spanId(retrySend));
    expect(second.attributes['celery.state']).toBe('SUCCESS');
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('remote control, events and stored results make no span: only the tasks and what they start', async () => {
    exporter.reset();
    const replies = await app.control.inspect({ destination: [worker.hostname], timeout: 2000 }).ping();
    expect(Object.keys(replies ?? {})).toEqual([worker.hostname]);
    const result = await app.sendTask('otel.add', [1, 1]);
    expect(await result.get({ timeout: 10_000 })).toBe(2);
    await until(() => named('run/otel.add', result.id).length === 1, 'the run span');
    // The worker sends events (sendEvents) and stores the result: neither is traced.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      exporter
        .getFinishedSpans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['apply_async/otel.add', 'inside add', 'run/otel.add']);
  });
});

describe('task spans across processes', () => {
  it('a run in another process is the child of the send in this one, and the spans its task starts are its children', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=nori-src', '--import', 'tsx', fileURLToPath(new URL('task-worker-process.ts', import.meta.url)), BROKER, REMOTE_QUEUE],
      { env: { ...process.env, ...CELERY_NAMES_ENV }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await until(() => out.includes('ready'), 'the worker process');
      const result = await app.sendTask('otel.remote', [20, 22], {}, { queue: REMOTE_QUEUE });
      expect(await result.get({ timeout: 15_000 })).toBe(42);
      child.kill('SIGTERM');
      await exited;
      const remote = JSON.parse(out.trim().split('\n').at(-1)!) as { name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string }[];
      const [send] = named('apply_async/otel.remote', result.id);
      const run = remote.find((s) => s.name === 'run/otel.remote')!;
      const inside = remote.find((s) => s.name === 'inside remote')!;
      expect(run.kind).toBe(SpanKind.CONSUMER);
      expect(run.traceId).toBe(send!.spanContext().traceId);
      expect(run.parentSpanId).toBe(spanId(send!));
      expect(inside.parentSpanId).toBe(run.spanId);
      expect(remote.map((s) => s.name).sort()).toEqual(['inside remote', 'run/otel.remote']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('a task sent by Python Celery with traceparent in its headers: the nori run continues that trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const [id] = await pythonSend({ broker: BROKER, backend: redisUrl(1), queue: QUEUE }, [
      { name: 'otel.add', args: [4, 5], options: { headers: { traceparent: `00-${traceId}-${parentId}-01` } } },
    ]);
    await until(() => named('run/otel.add', id).length === 1, 'the run span of the Python-sent task');
    const [run] = named('run/otel.add', id);
    expect(run!.spanContext().traceId).toBe(traceId);
    expect(parentOf(run!)).toBe(parentId);
    expect(run!.parentSpanContext?.isRemote).toBe(true);
    expect(run!.attributes['celery.state']).toBe('SUCCESS');
  }, 60_000);
});
