import type { Connection, Logger } from '@nori/core';
import type { TaskRequest } from '../protocol/message.js';
import type { TaskState } from '../states.js';

/** A task's result as a backend holds it (Celery's task meta, with nori's names). */
export interface StoredResult {
  taskId: string;
  state: TaskState;
  /** The return value on SUCCESS; the failure as an Error on FAILURE/REVOKED. */
  result: unknown;
  traceback: string | null;
  children: unknown[];
  dateDone: Date | null;
}

/** The task a result comes from: its name and where rpc:// replies go (the task message's reply_to and correlation_id). */
export interface ResultOrigin {
  replyTo?: string;
  correlationId?: string;
  taskName?: string;
}

/** The origin of a task message's results. */
export function resultOrigin(request: Pick<TaskRequest, 'name' | 'replyTo' | 'correlationId'>): ResultOrigin {
  return {
    taskName: request.name,
    ...(request.replyTo !== undefined && { replyTo: request.replyTo }),
    ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
  };
}

export interface WaitOptions {
  /** ms; undefined waits for ever. */
  timeout?: number;
  signal?: AbortSignal;
  /**
   * Called with each state read while waiting (custom states such as PROGRESS included; the ready
   * one last). A backend that polls may report the same state more than once.
   */
  onState?: (result: StoredResult) => void;
}

export interface ResultBackend {
  /** Called by the App before a task message is published (rpc:// declares its reply queue here). */
  onTaskCall?(taskId: string): Promise<void>;
  /** Stores a state; on FAILURE `result` is the Error the task failed with. */
  storeResult(taskId: string, state: TaskState, result: unknown, options?: { traceback?: string | null; origin?: ResultOrigin }): Promise<void>;
  /** The current result; PENDING with a null result when the id is unknown. */
  getResult(taskId: string): Promise<StoredResult>;
  /** Resolves once the result is in a ready state; rejects with TimeoutError / AbortError. */
  waitFor(taskId: string, options?: WaitOptions): Promise<StoredResult>;
  forget(taskId: string): Promise<void>;
  close(): Promise<void>;
}

/** What a backend may use of the App that created it. */
export interface BackendHost {
  /** The broker connection (rpc:// sends results over it). */
  readonly connection: Connection;
  /** This client's reply queue name, sent as reply_to on every task (Celery's thread oid). */
  readonly oid: string;
  /** How long results are kept, in ms (Celery's result_expires). */
  readonly resultExpires: number;
  /** Serializer name for stored results (Celery's result_serializer); default 'json'. */
  readonly resultSerializer?: string;
  readonly logger: Logger;
}
