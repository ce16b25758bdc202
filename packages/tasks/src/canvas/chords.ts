/**
 * How a chord's body gets sent once its header is done. On a Redis result backend: Celery's
 * counter (redis-chord.ts) — each header task, on whichever worker (nori or Python), counts itself
 * in; the last one sends the body. On every other backend (and a Redis Cluster): Celery's `celery.chord_unlock` task,
 * which polls the header results every `interval` and sends the body once all are ready; nori
 * workers run it (registered on every App) and so do Python ones. On rpc://, whose results only
 * the caller sees, the App that sends the chord completes it.
 */
import type { Logger } from '@nori/core';
import type { ResultBackend } from '../backends/backend.js';
import { currentTask } from '../context.js';
import { ChordError } from '../errors.js';
import { isRedisClusterUrl, isRedisUrl, urlScheme } from '../protocol/broker-url.js';
import { decodeException } from '../protocol/exception.js';
import type { Signature, TaskRequest } from '../protocol/message.js';
import { fromSeconds } from '../protocol/units.js';
import type { ApplyOptions, TaskHandler, TaskOptions } from '../task.js';
import { RedisChordStore, type ChordPart } from './redis-chord.js';
import { applySignature, frozenId, type SignatureSender } from './signature.js';

export const CHORD_UNLOCK = 'celery.chord_unlock';

/** What chords need from their App. */
export interface ChordsHost extends SignatureSender {
  readonly conf: { readonly backend: string | undefined; readonly resultExpires: number };
  readonly backend: ResultBackend;
  readonly logger: Logger;
  task(name: string, handler: TaskHandler, options: TaskOptions): unknown;
  sendTask(name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, options: ApplyOptions): Promise<unknown>;
}

export class Chords {
  readonly #host: ChordsHost;
  /** Set when the result backend is Redis. */
  readonly #store: RedisChordStore | undefined;

  constructor(host: ChordsHost) {
    this.#host = host;
    const url = host.conf.backend;
    // Not on a Redis Cluster: Celery's three counter keys of a chord live in different hash slots.
    this.#store = isRedisUrl(url) && !isRedisClusterUrl(url) ? new RedisChordStore(url, host.conf.resultExpires, host.logger) : undefined;
    // Celery's signature: unlock_chord(group_id, callback, interval, max_retries, result, **kwargs), read from the context.
    host.task(CHORD_UNLOCK, (_groupId: string, body: Signature) => this.#unlock(body), {
      maxRetries: null,
      ignoreResult: true,
      params: ['group_id', 'callback', '**kwargs'],
    });
  }

  /** Before the header is sent: Redis gets the chord size, rpc:// a watch in this App, other backends a chord_unlock task. */
  async prepare(groupId: string, headerIds: readonly string[], body: Signature): Promise<void> {
    if (this.#store) return this.#store.setSize(groupId, headerIds.length);
    if (urlScheme(this.#host.conf.backend ?? '') === 'rpc') return this.#completeHere(headerIds, body);
    await this.#host.sendTask(
      CHORD_UNLOCK,
      [groupId, body],
      { interval: 1, max_retries: null, result: headerIds.map((id) => [[id, null], null]) },
      { countdown: 1000, ...(typeof body.options?.['queue'] === 'string' && { queue: body.options['queue'] }) },
    );
  }

  /**
   * A header task ended for good (the tracer calls it, before the part's message is acked): counted
   * in on Redis, idempotently; the part that completes the chord sends the body. Elsewhere
   * chord_unlock polls. Rejects when the part could not be counted or the body not sent: the
   * tracer then gives the part's message back, and its re-run counts again.
   */
  async partReturn(request: TaskRequest, state: 'SUCCESS' | 'FAILURE', result: unknown): Promise<void> {
    const body = request.embed.chord;
    if (!body || request.group === null || !this.#store) return;
    const parts = await this.#store.partReturn(request.group, request.groupIndex, { taskId: request.id, state, result });
    if (!parts) return;
    // The body first, then the counter: a kill in between re-runs this part, which completes again.
    await this.#complete(body, parts);
    await this.#store.clear(request.group);
  }

  /**
   * rpc:// results reach only the caller's reply queue, so no worker can see a chord's header
   * results (Celery refuses chords on rpc://): the App that sends the chord completes it, once
   * every header result has arrived, as long as it runs (its results live no longer anyway).
   */
  #completeHere(headerIds: readonly string[], body: Signature): void {
    void Promise.all(headerIds.map((id) => this.#host.backend.waitFor(id)))
      .then((results) => this.#complete(body, results))
      .catch((error: unknown) => this.#host.logger.error({ err: error, chord: frozenId(body) }, 'chord not completed'));
  }

  async close(): Promise<void> {
    await this.#store?.close();
  }

  /** All parts are in: send the body with the results in header order, or fail it with ChordError. */
  async #complete(body: Signature, parts: readonly ChordPart[]): Promise<void> {
    const failed = parts.find((p) => p.state !== 'SUCCESS');
    if (failed) {
      const cause = failed.result instanceof Error ? failed.result : decodeException(failed.result, failed.taskId, null);
      const id = frozenId(body);
      // To the caller's reply queue on rpc:// (the body's reply_to, stamped when it was frozen).
      const replyTo = body.options?.['reply_to'];
      if (id)
        await this.#host.backend.storeResult(id, 'FAILURE', new ChordError(`Dependency ${failed.taskId} raised ${cause.message}`, { cause }), {
          origin: { correlationId: id, ...(typeof replyTo === 'string' && { replyTo }) },
        });
      return;
    }
    await applySignature(this.#host, body, [parts.map((p) => p.result)]);
  }

  /** Celery's chord_unlock: retry until every header result is ready. */
  async #unlock(body: Signature): Promise<void> {
    const ctx = currentTask();
    const tuples = Array.isArray(ctx.kwargs['result']) ? (ctx.kwargs['result'] as unknown[]) : [];
    const ids = tuples.map((t) => (Array.isArray(t) && Array.isArray(t[0]) ? String(t[0][0]) : String(t)));
    const interval = typeof ctx.kwargs['interval'] === 'number' ? fromSeconds(ctx.kwargs['interval']) : 1000;
    const results = await Promise.all(ids.map((id) => this.#host.backend.getResult(id)));
    if (results.some((r) => !['SUCCESS', 'FAILURE', 'REVOKED'].includes(r.state))) ctx.retry({ countdown: interval, maxRetries: null });
    await this.#complete(
      body,
      results.map((r) => ({ taskId: r.taskId, state: r.state, result: r.result })),
    );
  }
}
