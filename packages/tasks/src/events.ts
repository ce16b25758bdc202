/**
 * Typed local hooks. They are the seam the wire events (task-received ... worker-heartbeat on
 * `celeryev`) and remote control build on: a dispatcher listens here and publishes.
 */
import type { TaskRequest } from './protocol.js';
import type { Worker } from './worker.js';

export interface TaskSentInfo {
  id: string;
  name: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  eta: Date | undefined;
  expires: Date | undefined;
  queue: string | undefined;
  exchange: string;
  routingKey: string;
  retries: number;
  rootId: string;
  parentId: string | null;
}

export type AppEvents = {
  /** A task message was published (the broker has it). */
  'task-sent': [info: TaskSentInfo];
  /** `app.worker()` made a worker: plugins attach their listeners here. */
  'worker-created': [worker: Worker];
};

export type WorkerEvents = {
  'task-received': [request: TaskRequest];
  'task-started': [request: TaskRequest];
  /** `runtime` in ms. */
  'task-succeeded': [request: TaskRequest, info: { result: unknown; runtime: number }];
  'task-failed': [request: TaskRequest, info: { error: unknown; runtime: number }];
  'task-retried': [request: TaskRequest, info: { reason: Error | undefined; eta: Date }];
  'task-rejected': [request: TaskRequest | undefined, info: { requeue: boolean; reason: Error }];
  'task-revoked': [request: TaskRequest, info: { expired: boolean; terminated: boolean }];
  /** Handed back to the broker to wait for its ETA: no longer this worker's. */
  'task-parked': [request: TaskRequest, info: { eta: Date }];
  /** Consuming: the worker takes tasks. */
  'worker-ready': [info: { hostname: string; queues: readonly string[] }];
  /** Stopped: nothing runs, prefetched messages are back in their queues. */
  'worker-shutdown': [info: { hostname: string; cold: boolean }];
  /** Something failed outside a task (a settle, a result store, a publish). */
  error: [error: Error];
};
