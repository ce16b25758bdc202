/**
 * Span attributes named as the OpenTelemetry messaging semantic conventions (v1.27+) name them.
 * RabbitMQ's own conventions apply on amqp://: the destination is the exchange ('' for the
 * default exchange), the routing key and delivery tag have their own attributes. On the other transports, where a
 * publish to the default exchange goes straight to a queue, that queue is the destination.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ProcessTraceContext, PublishTraceContext, TraceServer } from '@nori/core';

const SYSTEMS: Readonly<Record<string, string>> = {
  amqp: 'rabbitmq',
  amqps: 'rabbitmq',
  pyamqp: 'rabbitmq',
  redis: 'redis',
  rediss: 'redis',
  'redis+socket': 'redis',
  'redis+sentinel': 'redis',
  mongodb: 'mongodb',
  'mongodb+srv': 'mongodb',
  memory: 'memory',
};

export function messagingSystem(transport: string): string {
  return SYSTEMS[transport] ?? transport;
}

function common(
  server: TraceServer,
  operation: 'publish' | 'process',
  bodySize: number,
  messageId: string | undefined,
  correlationId: string | undefined,
): Attributes {
  return {
    'messaging.system': messagingSystem(server.transport),
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.message.body.size': bodySize,
    ...(messageId !== undefined && { 'messaging.message.id': messageId }),
    ...(correlationId !== undefined && { 'messaging.message.conversation_id': correlationId }),
    ...(server.hostname !== undefined && { 'server.address': server.hostname }),
    ...(server.port !== undefined && { 'server.port': server.port }),
  };
}

export function publishDestination(ctx: PublishTraceContext): string {
  return messagingSystem(ctx.transport) === 'rabbitmq' || ctx.exchange !== '' ? ctx.exchange : ctx.routingKey;
}

export function publishAttributes(ctx: PublishTraceContext): Attributes {
  const p = ctx.message.properties;
  return {
    ...common(ctx, 'publish', ctx.message.body.byteLength, p.messageId, p.correlationId),
    'messaging.destination.name': publishDestination(ctx),
    ...(messagingSystem(ctx.transport) === 'rabbitmq' && ctx.routingKey !== '' && { 'messaging.rabbitmq.destination.routing_key': ctx.routingKey }),
  };
}

export function processAttributes(ctx: ProcessTraceContext): Attributes {
  const m = ctx.message;
  const rabbit = messagingSystem(ctx.transport) === 'rabbitmq';
  return {
    ...common(ctx, 'process', m.rawBody.byteLength, m.properties.messageId, m.properties.correlationId),
    'messaging.destination.name': ctx.queue,
    ...(rabbit && m.deliveryInfo.routingKey !== '' && { 'messaging.rabbitmq.destination.routing_key': m.deliveryInfo.routingKey }),
    ...(rabbit && typeof m.deliveryTag === 'number' && { 'messaging.rabbitmq.message.delivery_tag': m.deliveryTag }),
  };
}
