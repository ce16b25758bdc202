/**
 * The states a running task reports (Celery's `Task.update_state`): stored as the task's state with
 * the meta as its result, in Celery's layout on every backend (whatever `ignoreResult` says, as
 * Celery), then the `task-progress` hook, which the wire events send on. Tasks in a pool report
 * through their thread's or child's link to the worker, and land here too.
 */
import { resultOrigin } from '../backends/backend.js';
import { TaskConfigError } from '../errors.js';
import type { TaskRequest } from '../protocol/message.js';
import type { Hooks } from './events.js';
import type { WorkerHost } from './host.js';

export class Progress {
  readonly #host: Pick<WorkerHost, 'backend'>;
  readonly #hooks: Hooks;

  constructor(host: Pick<WorkerHost, 'backend'>, hooks: Hooks) {
    this.#host = host;
    this.#hooks = hooks;
  }

  /** Stores the state; rejects when it cannot be stored (the task decides what that means). */
  async update(request: TaskRequest, state: string, meta: unknown = null): Promise<void> {
    if (typeof state !== 'string' || state === '') throw new TaskConfigError(`updateState needs a state name, got ${JSON.stringify(state)}`);
    await this.#host.backend.storeResult(request.id, state, meta, { origin: resultOrigin(request) });
    this.#hooks.emit('task-progress', request, { state, meta });
  }
}
