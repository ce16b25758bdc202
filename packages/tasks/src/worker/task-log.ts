/**
 * The worker's lines about its tasks through the App's `logger`, as Celery's worker writes them
 * (received, succeeded in, raised, retry, discarded, rejected; ready), each with the task's
 * `task_id` and `task_name` and its outcome as fields. Only with a logger given: nori prints
 * nothing on its own.
 */
import type { Emitter, Logger } from '@nori/core';
import { exceptionRepr, safeRepr } from '../protocol/repr.js';
import { taskFields } from '../task-logger.js';
import type { WorkerEvents } from './events.js';

export function logTaskLines(worker: Pick<Emitter<WorkerEvents>, 'on'>, logger: Logger): void {
  const label = (r: { name: string; id: string }): string => `${r.name}[${r.id}]`;
  worker
    .on('worker-ready', ({ hostname, queues }) => logger.info({ hostname, queues }, `${hostname} ready.`))
    .on('task-received', (r) => logger.info(taskFields(r), `Task ${label(r)} received`))
    .on('task-succeeded', (r, { result, runtime }) =>
      logger.info(
        { ...taskFields(r), state: 'SUCCESS', runtime_ms: runtime },
        `Task ${label(r)} succeeded in ${(runtime / 1000).toFixed(3)}s: ${safeRepr(result, 256)}`,
      ),
    )
    .on('task-failed', (r, { error, runtime }) =>
      logger.error({ ...taskFields(r), state: 'FAILURE', runtime_ms: runtime, err: error }, `Task ${label(r)} raised unexpected: ${exceptionRepr(error)}`),
    )
    .on('task-retried', (r, { reason, eta }) =>
      logger.info(
        { ...taskFields(r), state: 'RETRY', retries: r.retries, eta: eta.toISOString(), ...(reason && { err: reason }) },
        `Task ${label(r)} retry: Retry at ${eta.toISOString()}${reason ? `: ${exceptionRepr(reason)}` : ''}`,
      ),
    )
    .on('task-revoked', (r, { expired, terminated }) =>
      logger.info({ ...taskFields(r), state: 'REVOKED', expired, terminated }, `Discarding revoked task: ${label(r)}`),
    )
    .on('task-rejected', (r, { requeue, reason }) =>
      logger.warn(
        { ...(r && taskFields(r)), requeue, err: reason },
        `${r ? `Task ${label(r)}` : 'A message'} rejected${requeue ? ' (requeued)' : ''}: ${reason.message}`,
      ),
    );
}
