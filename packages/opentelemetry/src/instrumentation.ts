/**
 * Turns nori's tracing channels into OpenTelemetry spans. Messages (@nori/core's `nori:publish`,
 * `nori:process`): a PRODUCER span per publish, whose W3C trace context goes into the message
 * headers, and a CONSUMER span per handler run whose parent is the publish span that message
 * carries. Tasks (@nori/tasks' `nori:task:send`, `nori:task:run`), as Celery's instrumentation
 * names them: `apply_async/<task>` (PRODUCER) and `run/<task>` (CONSUMER, the child of the send
 * whose trace context the message carries, from nori or from Python Celery), ERROR with the
 * exception on a failure or a retry. Each span is the active context while its operation runs
 * (spans a handler or task starts are its children): the tracing channels run the operation
 * inside `context.with`, bound as the `start` channel's store.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { processChannel, publishChannel, type ProcessTraceContext, type PublishTraceContext } from '@nori/core';
import type { TaskRunTraceContext, TaskSendTraceContext } from '@nori/tasks/events';
import { processAttributes, publishAttributes, publishDestination } from './attributes.js';
import { runAttributes, runSpanName, sendAttributes, sendSpanName } from './task-attributes.js';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

export interface NoriInstrumentationOptions {
  /** Where tracers come from; default the global provider. */
  tracerProvider?: TracerProvider;
}

const NAME = '@nori/opentelemetry';
const VERSION = '0.1.0';

/** @nori/tasks' channels by name (diagnostics channels are process-wide): this package never loads @nori/tasks. */
const taskSendChannel: TracingChannel<unknown, TaskSendTraceContext> = tracingChannel('nori:task:send');
const taskRunChannel: TracingChannel<unknown, TaskRunTraceContext> = tracingChannel('nori:task:run');

type Traced = PublishTraceContext | ProcessTraceContext | TaskSendTraceContext | TaskRunTraceContext;

/** `context.with` in the shape a channel store has: `run(value, fn)`. */
const otelStore = { run: <R>(ctx: Context, fn: () => R): R => context.with(ctx, fn) } as unknown as AsyncLocalStorage<Context>;

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Status ERROR, the exception recorded, `error.type` set (a nori error's `code`, else the name). */
function markError(span: Span, error: Error): void {
  span.recordException(error);
  const code = (error as { code?: unknown }).code;
  span.setAttribute('error.type', code !== undefined ? String(code) : error.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/** How a task run ended: `celery.state`, and ERROR with the exception on a failure or a retry. */
function recordOutcome(span: Span, ctx: TaskRunTraceContext): void {
  if (ctx.state === undefined) return;
  span.setAttribute('celery.state', ctx.state);
  if (ctx.state !== 'FAILURE' && ctx.state !== 'RETRY') return;
  const error = asError(ctx.exception);
  markError(span, error);
  if (ctx.state === 'RETRY') span.setAttribute('celery.retry.reason', error.message);
}

export class NoriInstrumentation {
  readonly #tracer: Tracer;
  readonly #spans = new WeakMap<Traced, Span>();
  readonly #runs = new WeakSet<TaskRunTraceContext>();
  /** Each channel with the start of its span, which returns the context its operation runs in. */
  readonly #channels: ReadonlyArray<readonly [TracingChannel<unknown, Traced>, (ctx: never) => Context]> = [
    [publishChannel, (ctx: PublishTraceContext) => this.#startPublish(ctx)],
    [processChannel, (ctx: ProcessTraceContext) => this.#startProcess(ctx)],
    [taskSendChannel, (ctx: TaskSendTraceContext) => this.#startTaskSend(ctx)],
    [taskRunChannel, (ctx: TaskRunTraceContext) => this.#startTaskRun(ctx)],
  ] as ReadonlyArray<readonly [TracingChannel<unknown, Traced>, (ctx: never) => Context]>;
  #enabled = false;

  constructor(options: NoriInstrumentationOptions = {}) {
    this.#tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME, VERSION);
  }

  enable(): this {
    if (this.#enabled) return this;
    this.#enabled = true;
    for (const [channel, start] of this.#channels) {
      channel.start.bindStore(otelStore as AsyncLocalStorage<unknown>, start as (ctx: unknown) => Context);
      channel.error.subscribe(this.#onError);
      channel.end.subscribe(this.#onEnd);
      channel.asyncEnd.subscribe(this.#onAsyncEnd);
    }
    return this;
  }

  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    for (const [channel] of this.#channels) {
      channel.start.unbindStore(otelStore as AsyncLocalStorage<unknown>);
      channel.error.unsubscribe(this.#onError);
      channel.end.unsubscribe(this.#onEnd);
      channel.asyncEnd.unsubscribe(this.#onAsyncEnd);
    }
  }

  #startPublish(ctx: PublishTraceContext): Context {
    const parent = context.active();
    const span = this.#tracer.startSpan(
      `publish ${publishDestination(ctx) || ctx.routingKey}`,
      { kind: SpanKind.PRODUCER, attributes: publishAttributes(ctx) },
      parent,
    );
    injectTraceContext(span.spanContext(), ctx.message.headers);
    this.#spans.set(ctx, span);
    return trace.setSpan(parent, span);
  }

  #startProcess(ctx: ProcessTraceContext): Context {
    const remote = extractTraceContext(ctx.message.headers);
    const parent = remote ? trace.setSpanContext(context.active(), remote) : context.active();
    const span = this.#tracer.startSpan(`process ${ctx.queue}`, { kind: SpanKind.CONSUMER, attributes: processAttributes(ctx) }, parent);
    this.#spans.set(ctx, span);
    return trace.setSpan(parent, span);
  }

  #startTaskSend(ctx: TaskSendTraceContext): Context {
    const parent = context.active();
    const span = this.#tracer.startSpan(sendSpanName(ctx), { kind: SpanKind.PRODUCER, attributes: sendAttributes(ctx) }, parent);
    injectTraceContext(span.spanContext(), ctx.headers);
    this.#spans.set(ctx, span);
    return trace.setSpan(parent, span);
  }

  #startTaskRun(ctx: TaskRunTraceContext): Context {
    const remote = extractTraceContext(ctx.headers);
    const parent = remote ? trace.setSpanContext(context.active(), remote) : context.active();
    const span = this.#tracer.startSpan(runSpanName(ctx), { kind: SpanKind.CONSUMER, attributes: runAttributes(ctx) }, parent);
    this.#spans.set(ctx, span);
    this.#runs.add(ctx);
    return trace.setSpan(parent, span);
  }

  readonly #onError = (message: unknown): void => {
    const ctx = message as Traced;
    const span = this.#spans.get(ctx);
    if (span) markError(span, asError(ctx.error));
  };

  /** A synchronous throw ends the operation here; otherwise `asyncEnd` follows. */
  readonly #onEnd = (message: unknown): void => {
    if ('error' in (message as Traced)) this.#finish(message as Traced);
  };

  readonly #onAsyncEnd = (message: unknown): void => this.#finish(message as Traced);

  #finish(ctx: Traced): void {
    const span = this.#spans.get(ctx);
    if (!span) return;
    if (this.#runs.has(ctx as TaskRunTraceContext)) recordOutcome(span, ctx as TaskRunTraceContext);
    span.end();
    this.#spans.delete(ctx);
  }
}
