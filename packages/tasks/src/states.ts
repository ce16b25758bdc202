/**
 * Celery's task states, spelled as on the wire, or a custom state a running task reported with
 * `currentTask().updateState()` (any name, e.g. 'PROGRESS', as Celery's `update_state`).
 */
export type TaskState = 'PENDING' | 'RECEIVED' | 'STARTED' | 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | (string & {});

/** States after which a result no longer changes (Celery's READY_STATES). */
export const READY_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
