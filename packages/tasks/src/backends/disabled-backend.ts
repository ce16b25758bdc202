/**
 * The backend of an App without a `backend` URL (Celery's DisabledBackend): nothing is stored,
 * every id reads PENDING, and waiting for a result fails at once with a clear error.
 */
import type { ResultBackend, StoredResult } from './backend.js';
import { TaskConfigError } from '../errors.js';

export class DisabledBackend implements ResultBackend {
  async storeResult(): Promise<void> {}

  async getResult(taskId: string): Promise<StoredResult> {
    return { taskId, state: 'PENDING', result: null, traceback: null, children: [], dateDone: null };
  }

  async waitFor(): Promise<StoredResult> {
    throw new TaskConfigError('no result backend is configured: pass `backend` (e.g. "redis://...", "rpc://", "memory://") to new App()');
  }

  async forget(): Promise<void> {}

  async close(): Promise<void> {}
}
