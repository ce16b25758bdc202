/**
 * @nori/opentelemetry: OpenTelemetry spans for nori's publish and process, following the
 * messaging semantic conventions, with W3C trace context carried in message headers.
 *
 *   new NoriInstrumentation().enable();
 */
export { NoriInstrumentation, type NoriInstrumentationOptions } from './instrumentation.js';
export { extractTraceContext, injectTraceContext } from './trace-context.js';
export { messagingSystem, processAttributes, publishAttributes } from './attributes.js';
