export type { TaskState } from './states.js';
export { READY_STATES } from './states.js';
export type { BackendHost, ResultBackend, ResultRequest, StoredResult } from './backend.js';
