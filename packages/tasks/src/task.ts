/**
 * A registered task: its handler, its policy, and the typed ways to call it. Calls go through the
 * App (which owns routing, the wire format and the producer), reached through `TaskSender` so this
 * file does not import the App.
 */
import type { Headers } from '@nori/core';
import type { ResolvedPolicy, TaskPolicy } from './config.js';
import type { Signature } from './protocol/message.js';
import type { OnceOptions } from './once/options.js';
import type { AsyncResult } from './result/async-result.js';

/** Any function can be a task; its parameters type the calls and its return type the result. */
export type TaskHandler = (...args: never[]) => unknown;

/** The value a handler's promise resolves to. */
export type TaskResult<F extends TaskHandler> = Awaited<ReturnType<F>>;

/**
 * The arguments a signature may carry: the handler's last n parameters, for any n, since the
 * parent's result (a chain's previous step, a chord's header results) fills the ones before.
 */
export type TrailingArgs<P extends readonly unknown[]> = P extends readonly [unknown, ...infer Rest] ? P | TrailingArgs<Rest> : P;

export interface TaskOptions extends TaskPolicy {
  /** Queue for this task's calls (below taskRoutes and call options). */
  queue?: string;
  routingKey?: string;
  exchange?: string;
  /** Default `expires` of calls, ms from the call. */
  expires?: number;
  /** Errors that retry the task by themselves: classes, or a predicate (a hard time limit only when the list names TimeLimitExceeded). */
  autoretryFor?: ReadonlyArray<abstract new (...args: never[]) => Error> | ((error: unknown) => boolean);
  /** Exponential backoff for autoretries: true = 1 s factor, or the factor in ms (Celery's retry_backoff). */
  retryBackoff?: boolean | number;
  /** Cap on the backoff, ms. Default 600 000. */
  retryBackoffMax?: number;
  /** Randomize the backoff over [0, delay]. Default true. */
  retryJitter?: boolean;
  /** A once-lock: the same call is not queued twice (celery_once). */
  once?: OnceOptions;
  /**
   * The names of the handler's positional parameters, in order, so keyword arguments (a Python
   * caller's kwargs) bind to them as in Python; a last '**name' takes the other keyword arguments
   * (read them from `currentTask().kwargs`). Without it a call with keyword arguments fails with
   * TypeError, as a Python function without them would.
   */
  params?: readonly string[];
}

export interface ApplyOptions {
  /** Run no earlier than this many ms from now. */
  countdown?: number;
  eta?: Date;
  /** Revoke (never run) after this: ms from now, or a Date. */
  expires?: number | Date;
  queue?: string;
  routingKey?: string;
  exchange?: string;
  /** Higher = more urgent. */
  priority?: number;
  /** Retry count to send (Celery sets it when retrying). */
  retries?: number;
  /** Hard time limit for this call, ms. */
  timeLimit?: number;
  /** Soft time limit for this call, ms. */
  softTimeLimit?: number;
  ignoreResult?: boolean;
  /** Extra message headers (merged over the protocol's, as Celery does). */
  headers?: Headers;
  serializer?: string;
  compression?: string;
  /** Tasks to call with the result on success. */
  link?: Signature | readonly Signature[];
  /** Tasks to call with the task id on failure. */
  linkError?: Signature | readonly Signature[];
  /** Use this id instead of a new uuid4. */
  taskId?: string;
  /** Reply queue for rpc:// results (default: this app's oid); a retry keeps the request's, as Celery does. */
  replyTo?: string;
  parentId?: string;
  rootId?: string;
  group?: string;
  groupIndex?: number;
  shadow?: string;
  argsrepr?: string;
  kwargsrepr?: string;
  /** Remaining chain, in Celery's reverse order. */
  chain?: readonly Signature[];
  /** The chord body this task is a header part of (with `group` and `groupIndex`). */
  chord?: Signature;
}

/** What a Task needs from its App. */
export interface TaskSender {
  send<R>(
    name: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>> | undefined,
    options: ApplyOptions | undefined,
    task: Task<TaskHandler> | undefined,
  ): Promise<AsyncResult<R>>;
}

export class Task<F extends TaskHandler> {
  constructor(
    private readonly sender: TaskSender,
    readonly name: string,
    readonly handler: F,
    readonly options: Readonly<TaskOptions>,
    readonly policy: ResolvedPolicy,
  ) {}

  /** Send with positional arguments; resolves once the broker has the message. */
  delay(...args: Parameters<F>): Promise<AsyncResult<TaskResult<F>>> {
    return this.sender.send(this.name, args, undefined, undefined, this as Task<TaskHandler>);
  }

  /** Send with options; resolves once the broker has the message. */
  applyAsync(args: Parameters<F>, kwargs?: Readonly<Record<string, unknown>>, options?: ApplyOptions): Promise<AsyncResult<TaskResult<F>>> {
    return this.sender.send(this.name, args, kwargs, options, this as Task<TaskHandler>);
  }

  /** A signature for link/linkError/chains: the parent's result is prepended to `args` (the handler's trailing parameters). */
  s(
    args: TrailingArgs<Parameters<F>> = [] as TrailingArgs<Parameters<F>>,
    kwargs: Readonly<Record<string, unknown>> = {},
    options: Record<string, unknown> = {},
  ): Signature<TaskResult<F>> {
    return this.#signature(args, kwargs, options, false);
  }

  /** An immutable signature: called with exactly `args`, the parent's result is not prepended. */
  si(args: Parameters<F>, kwargs: Readonly<Record<string, unknown>> = {}, options: Record<string, unknown> = {}): Signature<TaskResult<F>> {
    return this.#signature(args, kwargs, options, true);
  }

  #signature(
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
    options: Record<string, unknown>,
    immutable: boolean,
  ): Signature<TaskResult<F>> {
    return { task: this.name, args: [...args], kwargs: { ...kwargs }, options, subtask_type: null, immutable, chord_size: null };
  }
}
