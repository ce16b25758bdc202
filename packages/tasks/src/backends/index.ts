/**
 * @nori/tasks/backends: result backends by URL scheme (Celery's `result_backend`), each with
 * Celery's layout. See ARCHITECTURE.md for adding one.
 */
export type { BackendHost, ResultBackend, ResultOrigin, StoredResult, WaitOptions } from './backend.js';
export { createBackend } from './create-backend.js';
export { MemoryBackend } from './memory-backend.js';
export { RpcBackend } from './rpc-backend.js';
export { RedisBackend, TASK_KEY_PREFIX } from './redis-backend.js';
export { MongoBackend } from './mongodb-backend.js';
