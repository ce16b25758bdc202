/**
 * `node:diagnostics_channel` tracing channels for publish and process, the convention undici and
 * pg follow: `nori:publish` wraps each publish, `nori:process` each handler run. Subscribers (such
 * as `@nori/opentelemetry`) get the context below; publish subscribers may add headers to
 * `message.headers` in their `start` handler (trace context) before the message is sent.
 * Nothing is built unless a channel has subscribers.
 */
import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import type { Message } from './message.js';
import type { OutgoingMessage } from './spi/transport.js';
import type { BrokerUrl } from './url.js';

export interface TraceServer {
  /** URL scheme of the transport: amqp, redis, mongodb, memory, ... */
  readonly transport: string;
  readonly hostname: string | undefined;
  readonly port: number | undefined;
}

export interface PublishTraceContext extends TraceServer {
  /** The encoded message; its `headers` object may still be written to in `start`. */
  readonly message: OutgoingMessage;
  readonly exchange: string;
  readonly routingKey: string;
  /** Set by the tracing channel when the publish fails. */
  error?: unknown;
}

export interface ProcessTraceContext extends TraceServer {
  readonly message: Message;
  readonly queue: string;
  readonly consumerTag: string;
  /** Set by the tracing channel when the handler throws. */
  error?: unknown;
}

export const publishChannel: TracingChannel<unknown, PublishTraceContext> = tracingChannel('nori:publish');
export const processChannel: TracingChannel<unknown, ProcessTraceContext> = tracingChannel('nori:process');

/** `TracingChannel.hasSubscribers` is missing before Node 20.13: ask the five channels. */
export function traced(channel: TracingChannel<unknown, object>): boolean {
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  );
}

export function serverOf(urls: readonly BrokerUrl[]): TraceServer {
  const url = urls[0] as BrokerUrl;
  return { transport: url.scheme, hostname: url.hostname, port: url.port };
}
