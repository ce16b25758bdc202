/**
 * The worker's typed local hooks (`worker.on(...)`). The tracer emits the task hooks as the last
 * of a task's after-task steps, just before its message is settled; listeners (the wire events,
 * the CLI's log lines) observe outcomes, they never change them.
 */
import type { TaskRequest } from '../protocol/message.js';

export type WorkerEvents = {
  'task-received': [request: TaskRequest];
  'task-started': [request: TaskRequest];
  /** `runtime` in ms. */
  'task-succeeded': [request: TaskRequest, info: { result: unknown; runtime: number }];
  'task-failed': [request: TaskRequest, info: { error: unknown; runtime: number }];
  'task-retried': [request: TaskRequest, info: { reason: Error | undefined; eta: Date }];
  'task-rejected': [request: TaskRequest | undefined, info: { requeue: boolean; reason: Error }];
  'task-revoked': [request: TaskRequest, info: { expired: boolean; terminated: boolean }];
  /** The running task reported a state (`currentTask().updateState`), stored before this hook. */
  'task-progress': [request: TaskRequest, info: { state: string; meta: unknown }];
  /** Handed back to the broker to wait for its ETA: no longer this worker's. */
  'task-parked': [request: TaskRequest, info: { eta: Date }];
  /** Consuming: the worker takes tasks. */
  'worker-ready': [info: { hostname: string; queues: readonly string[] }];
  /** Tasks that may run at once changed (remote control's pool_grow/pool_shrink, the autoscaler). */
  'worker-resized': [info: { hostname: string; concurrency: number }];
  /** Stopped: nothing runs, prefetched messages are back in their queues. */
  'worker-shutdown': [info: { hostname: string; cold: boolean }];
  /** Something failed outside a task (a settle, a result store, a publish). */
  error: [error: Error];
};

/** How the worker's parts emit its hooks: the worker lends them its own emitter. */
export interface Hooks {
  emit<E extends keyof WorkerEvents>(event: E, ...args: WorkerEvents[E]): void;
}
