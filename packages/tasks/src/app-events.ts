/**
 * The App's typed local hooks (`app.on(...)`): a task message was published, a worker was made.
 * The worker's own hooks are in worker/events.ts.
 */
import type { Worker } from './worker/worker.js';

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
  /** `app.worker()` made a worker (with its events and remote control steps already in place). */
  'worker-created': [worker: Worker];
};
