/**
 * Turns nori's `nori:publish` and `nori:process` tracing channels into OpenTelemetry spans:
 * a PRODUCER span per publish, whose W3C trace context goes into the message headers, and a
 * CONSUMER span per handler run whose parent is the publish span that message carries. Each
 * span is the active context while its operation runs (spans a handler starts are its children):
 * the tracing channels run the operation inside `context.with`, bound as the `start` channel's
 * store.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { processChannel, publishChannel, type ProcessTraceContext, type PublishTraceContext } from '@nori/core';
import { processAttributes, publishAttributes, publishDestination } from './attributes.js';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

export interface NoriInstrumentationOptions {
  /** Where tracers come from; default the global provider. */
  tracerProvider?: TracerProvider;
}

const NAME = '@nori/opentelemetry';
const VERSION = '0.1.0';

type Traced = PublishTraceContext | ProcessTraceContext;

/** `context.with` in the shape a channel store has: `run(value, fn)`. */
const otelStore = { run: <R>(ctx: Context, fn: () => R): R => context.with(ctx, fn) } as unknown as AsyncLocalStorage<Context>;

export class NoriInstrumentation {
  readonly #tracer: Tracer;
  readonly #spans = new WeakMap<Traced, Span>();
  #enabled = false;

  constructor(options: NoriInstrumentationOptions = {}) {
    this.#tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME, VERSION);
  }

  enable(): this {
    if (this.#enabled) return this;
    this.#enabled = true;
    publishChannel.start.bindStore(otelStore as AsyncLocalStorage<unknown>, (ctx) => this.#startPublish(ctx as PublishTraceContext));
    processChannel.start.bindStore(otelStore as AsyncLocalStorage<unknown>, (ctx) => this.#startProcess(ctx as ProcessTraceContext));
    for (const channel of [publishChannel, processChannel]) {
      channel.error.subscribe(this.#onError);
      channel.end.subscribe(this.#onEnd);
      channel.asyncEnd.subscribe(this.#onAsyncEnd);
    }
    return this;
  }

  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    publishChannel.start.unbindStore(otelStore as AsyncLocalStorage<unknown>);
    processChannel.start.unbindStore(otelStore as AsyncLocalStorage<unknown>);
    for (const channel of [publishChannel, processChannel]) {
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

  readonly #onError = (message: unknown): void => {
    const ctx = message as Traced;
    const span = this.#spans.get(ctx);
    if (!span) return;
    const error = ctx.error instanceof Error ? ctx.error : new Error(String(ctx.error));
    span.recordException(error);
    span.setAttribute('error.type', (error as { code?: unknown }).code !== undefined ? String((error as { code?: unknown }).code) : error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  };

  /** A synchronous throw ends the operation here; otherwise `asyncEnd` follows. */
  readonly #onEnd = (message: unknown): void => {
    if ('error' in (message as Traced)) this.#finish(message as Traced);
  };

  readonly #onAsyncEnd = (message: unknown): void => this.#finish(message as Traced);

  #finish(ctx: Traced): void {
    this.#spans.get(ctx)?.end();
    this.#spans.delete(ctx);
  }
}
