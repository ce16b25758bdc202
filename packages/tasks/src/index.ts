export type { TaskState } from './states.js';
export { READY_STATES } from './states.js';
export type { BackendHost, ResultBackend, ResultRequest, StoredResult } from './backend.js';
export * from './errors.js';
export { AsyncResult, type ResultGetOptions } from './result/async-result.js';
export { encodeException, decodeException, type ExceptionInfo } from './result/exception.js';
export { toTaskMeta, fromTaskMeta, type TaskMeta } from './result/task-meta.js';
export { createBackend } from './backends/create-backend.js';
export { MemoryBackend } from './backends/memory-backend.js';
export { RpcBackend } from './backends/rpc-backend.js';
export { RedisBackend, TASK_KEY_PREFIX } from './backends/redis-backend.js';
export { MongoBackend } from './backends/mongodb-backend.js';
export { App, type TaskRegistry, type SendArgs, type SendKwargs, type SendResult } from './app.js';
export type { AppOptions, TaskPolicy } from './config.js';
export { Task, type ApplyOptions, type TaskHandler, type TaskOptions, type TaskResult } from './task.js';
export { Worker, type WorkerOptions } from './worker.js';
export { moduleTask } from './module-task.js';
export { currentTask, type TaskContext, type RetryOptions, type DeliveryDetails } from './context.js';
export type { AppEvents, WorkerEvents, TaskSentInfo } from './events.js';
export type { Route, Router, TaskRoutes } from './routes.js';
export { parseTaskMessage, taskHeaders, taskBody, type Embed, type Signature, type TaskCall, type TaskRequest } from './protocol.js';
export { settlementFor, type AckPolicy, type Outcome, type Settlement } from './ack-policy.js';
export {
  NoriTaskError,
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
  type TaskErrorCode,
  type RetryOverrides,
} from './task-errors.js';
export { EventsApi } from './events/events-api.js';
export { EventDispatcher, type DispatcherOptions } from './events/dispatcher.js';
export { EventReceiver, type EventHandlers, type ReceiverOptions, type ReceiverEvents } from './events/receiver.js';
export { EventState, type EventStateOptions, type TaskSnapshot, type WorkerSnapshot } from './events/state.js';
export { LamportClock } from './events/clock.js';
export type { CeleryEvent, EventsOptions } from './events/event.js';
export type { WorkerStep } from './worker.js';
export { Control, Inspect, type BroadcastOptions, type InspectOptions, type Replies } from './control/control.js';
export { Mailbox, type ControlOptions, type ControlCommand } from './control/mailbox.js';
export { RevokedSet, type RevokedOptions } from './control/revoked.js';
export type { RemoteControlOptions } from './control/remote-control.js';
export { censorSettings } from './control/censor.js';
export type { RequestInfo } from './control/requests.js';
export { chain, group, chord, Chain, Group, Chord, GroupResult, type CanvasApplyOptions } from './canvas/canvas.js';
export { signature, signatureOptions, applySignature } from './canvas/signature.js';
export { onceKey, type OnceOptions, type OnceSettings } from './once/once.js';
export { Beat, tickId, type BeatEntry, type BeatOptions, type BeatEvents, type TickInfo } from './beat/beat.js';
export { every, crontab, at, type Schedule } from './beat/schedule.js';
