/**
 * Span names and attributes of task sends and runs, as opentelemetry-instrumentation-celery
 * writes them (`apply_async/<task>`, `run/<task>`, `celery.action`, `celery.task_name`,
 * `celery.retries`, `celery.state`, `celery.hostname`, `celery.retry.reason`, the task id as
 * `messaging.message.id`), with the messaging attributes of the conventions beside them.
 */
import type { Attributes } from '@opentelemetry/api';
import type { TaskRunTraceContext, TaskSendTraceContext } from '@nori/tasks/events';
import { messagingSystem } from './attributes.js';

export const sendSpanName = (ctx: TaskSendTraceContext): string => `apply_async/${ctx.name}`;
export const runSpanName = (ctx: TaskRunTraceContext): string => `run/${ctx.name}`;

function common(ctx: TaskSendTraceContext | TaskRunTraceContext, action: 'apply_async' | 'run'): Attributes {
  return {
    'celery.action': action,
    'celery.task_name': ctx.name,
    'messaging.message.id': ctx.id,
    'messaging.system': messagingSystem(ctx.transport),
    'messaging.operation.type': action === 'run' ? 'process' : 'publish',
    'messaging.operation.name': action,
    // Celery's instrumentation leaves retries out while there are none.
    ...(ctx.retries > 0 && { 'celery.retries': ctx.retries }),
  };
}

export function sendAttributes(ctx: TaskSendTraceContext): Attributes {
  return { ...common(ctx, 'apply_async'), 'messaging.destination.name': ctx.routingKey || ctx.exchange };
}

export function runAttributes(ctx: TaskRunTraceContext): Attributes {
  return { ...common(ctx, 'run'), 'messaging.destination.name': ctx.queue, 'celery.hostname': ctx.hostname };
}
