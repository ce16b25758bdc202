/**
 * How a chord's body gets sent once its header is done. On a Redis result backend: Celery's
 * counter (redis-chord.ts) — each header task, on whichever worker (nori or Python), counts itself
 * in; the last one sends the body. On every other backend: Celery's `celery.chord_unlock` task,
 * which polls the header results every `interval` and sends the body once all are ready; nori
 * workers run it (registered on every App) and so do Python ones.
 */
import type { App } from '../app.js';
import { currentTask } from '../context.js';
import { ChordError } from '../errors.js';
import type { Signature, TaskRequest } from '../protocol.js';
import { decodeException } from '../result/exception.js';
import type { Worker } from '../worker.js';
import { RedisChordStore, type ChordPart } from './redis-chord.js';
import { applySignature, frozenId } from './signature.js';

export const CHORD_UNLOCK = 'celery.chord_unlock';

const REDIS_SCHEMES = ['redis', 'rediss', 'redis+socket', 'sentinel'];

export class Chords {
  readonly #app: App;
  /** Set when the result backend is Redis. */
  readonly store: RedisChordStore | undefined;

  constructor(app: App) {
    this.#app = app;
    const backend = app.conf.backend;
    const scheme = backend?.slice(0, backend.indexOf('://')).toLowerCase();
    this.store = backend && scheme && REDIS_SCHEMES.includes(scheme) ? new RedisChordStore(backend, app.conf.resultExpires, app.connection.logger) : undefined;
    app.task(CHORD_UNLOCK, (_groupId: string, body: Signature) => this.#unlock(body), { maxRetries: null, ignoreResult: true });
    if (this.store) app.on('worker-created', (worker) => this.#countParts(worker));
  }

  /** Before the header is sent: Redis gets the chord size, other backends a chord_unlock task. */
  async prepare(groupId: string, headerIds: readonly string[], body: Signature): Promise<void> {
    if (this.store) return this.store.setSize(groupId, headerIds.length);
    await this.#app.sendTask(
      CHORD_UNLOCK,
      [groupId, body],
      { interval: 1, max_retries: null, result: headerIds.map((id) => [[id, null], null]) },
      { countdown: 1000, ...(typeof body.options?.['queue'] === 'string' && { queue: body.options['queue'] }) },
    );
  }

  async close(): Promise<void> {
    await this.store?.close();
  }

  #countParts(worker: Worker): void {
    const onEnd = (request: TaskRequest, state: 'SUCCESS' | 'FAILURE', result: unknown): void => {
      const body = request.embed.chord;
      if (!body || !request.group || !this.store) return;
      void this.store
        .partReturn(request.group, request.groupIndex, { taskId: request.id, state, result })
        .then((parts) => parts && this.#complete(body, parts))
        .catch((error: unknown) => this.#app.connection.logger.error({ err: error, group: request.group }, 'chord part not counted'));
    };
    worker.on('task-succeeded', (r, i) => onEnd(r, 'SUCCESS', i.result));
    worker.on('task-failed', (r, i) => onEnd(r, 'FAILURE', i.error));
  }

  /** All parts are in: send the body with the results in header order, or fail it with ChordError. */
  async #complete(body: Signature, parts: readonly ChordPart[]): Promise<void> {
    const failed = parts.find((p) => p.state !== 'SUCCESS');
    if (failed) {
      const cause = failed.result instanceof Error ? failed.result : decodeException(failed.result, failed.taskId, null);
      const id = frozenId(body);
      if (id) await this.#app.backend.storeResult(id, 'FAILURE', new ChordError(`Dependency ${failed.taskId} raised ${cause.message}`, { cause }));
      return;
    }
    await applySignature(this.#app, body, [parts.map((p) => p.result)]);
  }

  /** Celery's chord_unlock: retry until every header result is ready. */
  async #unlock(body: Signature): Promise<void> {
    const ctx = currentTask();
    const tuples = Array.isArray(ctx.kwargs['result']) ? (ctx.kwargs['result'] as unknown[]) : [];
    const ids = tuples.map((t) => (Array.isArray(t) && Array.isArray(t[0]) ? String(t[0][0]) : String(t)));
    const interval = typeof ctx.kwargs['interval'] === 'number' ? ctx.kwargs['interval'] * 1000 : 1000;
    const results = await Promise.all(ids.map((id) => this.#app.backend.getResult(id)));
    if (results.some((r) => !['SUCCESS', 'FAILURE', 'REVOKED'].includes(r.state))) ctx.retry({ countdown: interval, maxRetries: null });
    await this.#complete(
      body,
      results.map((r) => ({ taskId: r.taskId, state: r.state, result: r.result })),
    );
  }
}
