/**
 * One task message in the worker, from reception to settlement (Celery's worker Request). Its context and its
 * AbortController are built the first time something asks for them (the handler calling
 * `currentTask()` or reading `signal`, a time limit, a stop): a trivial handler never does, and
 * each costs allocations per task (an AbortSignal alone was ~1.5% of a trivial task).
 */
import type { Logger, Message } from '@nori/core';
import type { ResolvedPolicy } from '../config.js';
import { retryDecision, type ContextSource, type DeliveryDetails, type TaskContext } from '../context.js';
import { OutsideTaskError } from '../errors.js';
import type { TaskRequest } from '../protocol/message.js';
import type { Task, TaskHandler } from '../task.js';
import { taskFields, withFields } from '../task-logger.js';
import type { TaskRunTraceContext } from '../events/tracing.js';
import type { Progress } from './progress.js';

/** What the worker holds, as remote control's inspect sees it (read-only). */
export interface HeldTask {
  readonly request: TaskRequest;
  /** When its handler started (ms since the epoch); null while it waits (reserved, or for its ETA). */
  readonly startedAt: number | null;
  /** Its message was acked before the task ran (acksLate: false). */
  readonly acksEarly: boolean;
}

export class Job implements ContextSource, HeldTask {
  readonly policy: ResolvedPolicy;
  /** Settled by a cold stop: whatever the task does later settles and stores nothing. */
  abandoned = false;
  /** Holds a concurrency slot (from its acquisition until the handler is done). */
  holding = false;
  /** Set while running: ends the run at once (terminate). */
  kill: ((reason: Error) => void) | undefined;
  /** Set while running: where the context's updateState goes. */
  progress: Progress | undefined;
  /** When its handler started (ms since the epoch); null while it waits (reserved, or for its ETA). */
  startedAt: number | null = null;
  /** Its run's context on the `nori:task:run` tracing channel, while something subscribes to it. */
  traced: TaskRunTraceContext | undefined;
  #controller: AbortController | undefined;
  #context: TaskContext | undefined;

  constructor(
    readonly message: Message,
    readonly request: TaskRequest,
    readonly task: Task<TaskHandler>,
    readonly hostname: string,
    /** The App's logger, which the context binds to this task. */
    readonly logger: Logger,
  ) {
    this.policy = task.policy;
  }

  get acksEarly(): boolean {
    return !this.policy.acksLate;
  }

  get controller(): AbortController {
    return (this.#controller ??= new AbortController());
  }

  /** Why the task was aborted, if it was (without building a controller to ask). */
  get abortReason(): unknown {
    return this.#controller?.signal.reason;
  }

  deliveryDetails(): DeliveryDetails {
    const { message } = this;
    return {
      queue: message.queue,
      exchange: message.deliveryInfo.exchange,
      routingKey: message.deliveryInfo.routingKey,
      priority: message.properties.priority,
      redelivered: message.redelivered,
    };
  }

  context(): TaskContext {
    if (this.#context) return this.#context;
    const { request, policy } = this;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context's getter reads the job's controller
    const job = this;
    this.#context = {
      id: request.id,
      name: request.name,
      args: request.args,
      kwargs: request.kwargs,
      retries: request.retries,
      eta: request.eta,
      expires: request.expires,
      rootId: request.rootId,
      parentId: request.parentId,
      group: request.group,
      origin: request.origin,
      hostname: this.hostname,
      replyTo: request.replyTo,
      deliveryInfo: this.deliveryDetails(),
      embed: request.embed,
      get signal(): AbortSignal {
        return job.controller.signal;
      },
      get logger(): Logger {
        return withFields(job.logger, taskFields(request));
      },
      retry: (options = {}) => retryDecision(request, policy, options),
      updateState: (state, meta) =>
        job.progress ? job.progress.update(request, state, meta) : Promise.reject(new OutsideTaskError('updateState() outside the worker running the task')),
    };
    return this.#context;
  }
}
