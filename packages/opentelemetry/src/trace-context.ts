/**
 * W3C Trace Context in message headers (`traceparent`, `tracestate`), written and read here so
 * the link holds whatever global propagator an application configured, and a Python peer whose
 * instrumentation uses the same headers joins the trace.
 */
import { createTraceState, isSpanContextValid, TraceFlags, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function injectTraceContext(span: SpanContext, headers: Record<string, unknown>): void {
  headers['traceparent'] = `00-${span.traceId}-${span.spanId}-0${(span.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
  const state = span.traceState?.serialize();
  if (state) headers['tracestate'] = state;
  else delete headers['tracestate'];
}

/** The remote span context a message carries, or undefined when it has none (or a malformed one). */
export function extractTraceContext(headers: Readonly<Record<string, unknown>>): SpanContext | undefined {
  const header = headers['traceparent'];
  const match = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  if (!match) return undefined;
  const state = headers['tracestate'];
  const span: SpanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(typeof state === 'string' && state !== '' && { traceState: createTraceState(state) }),
  };
  return isSpanContextValid(span) ? span : undefined;
}
