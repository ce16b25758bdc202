/**
 * @nori/tasks/protocol: the Celery wire layer, shared by the task layer and the CLI — task
 * messages (protocol v2, v1 read), task meta documents and stored exceptions, Python's repr,
 * Celery's units and dates, broker-URL kinds — and the wire-level rules built on it (the ack
 * matrix, signatures' options, once-lock keys, beat's tick ids and stored entries).
 */
export { parseTaskMessage, taskHeaders, taskBody, type Embed, type Signature, type TaskCall, type TaskRequest } from './message.js';
export { toTaskMeta, fromTaskMeta, type TaskMeta } from './task-meta.js';
export { encodeException, decodeException, type ExceptionInfo } from './exception.js';
export { pyRepr, safeRepr, argsRepr, kwargsRepr, exceptionRepr } from './repr.js';
export { toWireTime, fromWireTime } from './time.js';
export { toSeconds, fromSeconds, secondsOrNull, msOrUndefined, unixSeconds } from './units.js';
export { REDIS_SCHEMES, urlScheme, isRedisUrl, isRedisClusterUrl } from './broker-url.js';
export type { CeleryException, RetryOverrides } from '../errors.js';
export { settlementFor, type AckPolicy, type Outcome, type Settlement } from '../worker/settle.js';
export { signatureOptions, applySignature, type SignatureSender } from '../canvas/signature.js';
export type { CanvasApp } from '../canvas/canvas.js';
export { onceKey } from '../once/once.js';
export type { OnceSettings } from '../once/options.js';
export { tickId, type BeatHost } from '../beat/beat.js';
export type { BeatSchedules, ScheduleInfo } from '../beat/schedules.js';
export { scheduleFrom, type ScheduleSpec } from '../beat/schedule.js';
export type { StoredEntry, ScheduleChange, CodeEntry } from '../beat/stored-entry.js';
export type { TaskSender } from '../task.js';
export type { ResolvedPolicy } from '../config.js';
