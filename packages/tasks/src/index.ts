/**
 * @nori/tasks: what users write — the App, tasks, results, canvas, schedules, errors and the
 * task's context. The building blocks live behind subpaths: `@nori/tasks/protocol` (the Celery
 * wire layer), `@nori/tasks/backends` (result backends), `@nori/tasks/events` and
 * `@nori/tasks/control` (monitoring and remote control).
 */
export { App, type TaskRegistry, type SendArgs, type SendKwargs, type SendResult } from './app.js';
export type { AppEvents, TaskSentInfo } from './app-events.js';
export type { AppOptions, TaskPolicy } from './config.js';
export { Task, type ApplyOptions, type TaskHandler, type TaskOptions, type TaskResult } from './task.js';
export { moduleTask } from './module-task.js';
export { currentTask, type TaskContext, type RetryOptions, type DeliveryDetails } from './context.js';
export { AsyncResult, type ResultGetOptions } from './result/async-result.js';
export { READY_STATES, type TaskState } from './states.js';
export { Worker } from './worker/worker.js';
export type { WorkerOptions, WorkerStep } from './worker/options.js';
export type { WorkerEvents } from './worker/events.js';
export type { Signature, TaskRequest } from './protocol/message.js';
export { chain, group, chord, Chain, Group, Chord, GroupResult, type CanvasApplyOptions } from './canvas/canvas.js';
export { signature } from './canvas/signature.js';
export type { OnceOptions } from './once/options.js';
export type { Beat, BeatEntry, BeatOptions, BeatEvents, TickInfo } from './beat/beat.js';
export { every, crontab, at, type Schedule } from './beat/schedule.js';
export type { Route, Router, TaskRoutes } from './routes.js';
export {
  TasksError,
  TaskError,
  TaskRevokedError,
  ChordError,
  AlreadyQueued,
  BackendNotInstalledError,
  UnknownBackendError,
  NotRegistered,
  InvalidTaskError,
  TimeLimitExceeded,
  SoftTimeLimitExceeded,
  MaxRetriesExceededError,
  WorkerLostError,
  Retry,
  Reject,
  Ignore,
  OutsideTaskError,
  TaskConfigError,
  type TasksErrorCode,
} from './errors.js';
