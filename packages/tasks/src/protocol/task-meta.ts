/**
 * Celery's task meta document (celery/backends/base.py `_get_result_meta`), the shape every
 * backend stores and Python reads: `{status, result, traceback, children, date_done, task_id}`.
 */
import { DecodeError } from '@nori/core';
import type { StoredResult } from '../backends/backend.js';
import { READY_STATES, type TaskState } from '../states.js';
import { decodeException, encodeException, isExceptionInfo } from './exception.js';

export interface TaskMeta {
  status: TaskState;
  result: unknown;
  traceback: string | null;
  children: unknown[];
  date_done: string | null;
  task_id: string;
  [extra: string]: unknown;
}

/** States whose result is an exception (Celery's EXCEPTION_STATES). */
const EXCEPTION_STATES: ReadonlySet<string> = new Set(['FAILURE', 'RETRY', 'REVOKED']);

/** The last date formatted: the results of one burst mostly share their millisecond. */
let lastMs = NaN;
let lastText = '';

/** ISO 8601 in UTC with an explicit offset, as Celery 5.3+ writes it (5.2 parses it too). */
export function formatDateDone(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastText = new Date(ms).toISOString().replace('Z', '+00:00');
  }
  return lastText;
}

/** Celery 5.2 writes naive UTC (`datetime.utcnow().isoformat()`): no offset means UTC. */
export function parseDateDone(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (typeof value !== 'string' || value === '') return null;
  const text = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The stored form of a state; on exception states the result (an Error, or any value thrown) becomes Celery's exception dict. */
export function toTaskMeta(
  taskId: string,
  state: TaskState,
  result: unknown,
  traceback: string | null = null,
  children: unknown[] = [],
  now: number = Date.now(),
): TaskMeta {
  return {
    status: state,
    result: EXCEPTION_STATES.has(state) && !isExceptionInfo(result) ? encodeException(result) : (result ?? null),
    traceback,
    children,
    date_done: READY_STATES.has(state) ? formatDateDone(now) : null,
    task_id: taskId,
  };
}

/** Read a stored document (from either language); a failure's result becomes a TaskError. */
export function fromTaskMeta(doc: unknown, taskId: string): StoredResult {
  if (typeof doc !== 'object' || doc === null || typeof (doc as { status?: unknown }).status !== 'string') {
    throw new DecodeError(`result of task ${taskId} is not a Celery task meta document (no status)`);
  }
  const meta = doc as Partial<TaskMeta>;
  const state = meta.status as TaskState;
  const traceback = typeof meta.traceback === 'string' ? meta.traceback : null;
  return {
    taskId: typeof meta.task_id === 'string' ? meta.task_id : taskId,
    state,
    result: EXCEPTION_STATES.has(state) ? decodeException(meta.result, taskId, traceback) : (meta.result ?? null),
    traceback,
    children: Array.isArray(meta.children) ? meta.children : [],
    dateDone: parseDateDone(meta.date_done),
  };
}

/** What a backend answers for an id it has nothing for (Celery: PENDING, also for unknown ids). */
export function pendingResult(taskId: string): StoredResult {
  return { taskId, state: 'PENDING', result: null, traceback: null, children: [], dateDone: null };
}

export function isReady(result: StoredResult): boolean {
  return READY_STATES.has(result.state);
}
