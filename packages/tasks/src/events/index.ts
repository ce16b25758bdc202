/**
 * @nori/tasks/events: Celery's events (`app.events`): receivers, the state they feed, the
 * dispatcher, the Lamport clock, and the event's wire shape; and the tracing channels of task
 * sends and runs (`nori:task:send`, `nori:task:run`) that `@nori/opentelemetry` reads.
 */
export { EventsApi, type EventsHost } from './events-api.js';
export { EventDispatcher, type DispatcherOptions } from './dispatcher.js';
export { EventReceiver, type EventHandlers, type ReceiverHost, type ReceiverOptions, type ReceiverEvents } from './receiver.js';
export { EventState, type EventStateOptions, type TaskSnapshot, type WorkerSnapshot } from './state.js';
export { LamportClock } from './clock.js';
export type { CeleryEvent, EventsOptions, ResolvedEventsOptions } from './event.js';
export type { WorkerEventSender } from './worker-event-sender.js';
export { taskSendChannel, taskRunChannel, type TaskSendTraceContext, type TaskRunTraceContext, type TaskRunState } from './tracing.js';
