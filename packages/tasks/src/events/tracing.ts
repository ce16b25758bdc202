/**
 * `node:diagnostics_channel` tracing channels for tasks, as core's `nori:publish` / `nori:process`
 * are for messages: `nori:task:send` wraps the publish of a task message (apply_async, send_task,
 * a retry, a callback, a chain's next step), `nori:task:run` a task's run in a worker, from its
 * start to its outcome handled (result stored, follow-ups sent). Subscribers such as
 * `@nori/opentelemetry` get the contexts below; nothing is built unless a channel has subscribers.
 * Task messages do not go through core's channels, and remote control and events through none:
 * they are the workers' own traffic.
 */
import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';

export interface TaskSendTraceContext {
  readonly name: string;
  readonly id: string;
  /** Retries before this send (0 for the first one, n for the message of retry n). */
  readonly retries: number;
  /** The message's Celery headers; `start` subscribers may add to them (trace context) before it is sent. */
  readonly headers: Record<string, unknown>;
  readonly exchange: string;
  readonly routingKey: string;
  /** URL scheme of the broker's transport: amqp, redis, mongodb, memory, ... */
  readonly transport: string;
  /** Set by the tracing channel when the publish fails. */
  error?: unknown;
}

/** How a run ended, by Celery's state names (task_postrun's `state`). */
export type TaskRunState = 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | 'REJECTED' | 'IGNORED';

export interface TaskRunTraceContext {
  readonly name: string;
  readonly id: string;
  readonly retries: number;
  /** The message's headers as received: Celery's, and the sender's trace context (`traceparent`). */
  readonly headers: Readonly<Record<string, unknown>>;
  /** The worker's node name. */
  readonly hostname: string;
  readonly queue: string;
  readonly transport: string;
  /** Set before the run ends. */
  state?: TaskRunState;
  /** The task's failure, or the reason of its retry. */
  exception?: unknown;
  /** Set by the tracing channel when the run itself fails (not the task: that is `state`). */
  error?: unknown;
}

export const taskSendChannel: TracingChannel<unknown, TaskSendTraceContext> = tracingChannel('nori:task:send');
export const taskRunChannel: TracingChannel<unknown, TaskRunTraceContext> = tracingChannel('nori:task:run');
