/**
 * @nori/tasks/control: remote control (`app.control`): broadcast and inspect commands, Celery's
 * mailbox, the revoked set a worker keeps, and the shapes of inspect's replies.
 */
export { Control, Inspect, type BroadcastOptions, type ControlHost, type InspectOptions, type Replies } from './control.js';
export { Mailbox, type ControlCommand, type Lifetimes } from './mailbox.js';
export type { ControlOptions, RemoteControlOptions } from './options.js';
export { RevokedSet, type RevokedOptions } from './revoked.js';
export type { TaskInfo } from './held-tasks.js';
export type { HeldTask } from '../worker/job.js';
// The pool bounds remote control's autoscale moves (`worker.autoscaler`, `WorkerOptions.autoscale`).
export type { Autoscaler, AutoscaleOptions } from '../worker/autoscaler.js';
export { censorSettings } from './censor.js';
