/**
 * What a worker needs from its App: the configuration, the tasks, the result backend, sending,
 * and the after-task steps other parts of the App own (chord counting, once-locks), which the
 * tracer calls in its stated order. The App builds one for its workers (app.ts).
 */
import type { Queue } from '@nori/core';
import type { ResultBackend } from '../backends/backend.js';
import type { ResolvedConfig } from '../config.js';
import type { TaskRequest } from '../protocol/message.js';
import type { ApplyOptions, Task, TaskHandler } from '../task.js';

export interface WorkerHost {
  readonly conf: ResolvedConfig;
  readonly tasks: ReadonlyMap<string, Task<TaskHandler>>;
  readonly backend: ResultBackend;
  /** The queue entity for a name, declared as Celery declares it. */
  queue(name: string): Queue;
  send(
    name: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>> | undefined,
    options: ApplyOptions | undefined,
    task: Task<TaskHandler> | undefined,
  ): Promise<unknown>;
  /** A chord header task ended for good: count it in; the last one sends the body (or stores its ChordError). */
  chordPart(request: TaskRequest, state: 'SUCCESS' | 'FAILURE', result: unknown): Promise<void>;
  /** Gives back the once-lock a task with `once` took when it was sent. */
  releaseOnce(task: Task<TaskHandler>, request: TaskRequest): Promise<void>;
}
