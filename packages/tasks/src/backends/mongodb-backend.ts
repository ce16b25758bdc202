/**
 * Celery's MongoDB result backend layout (celery/backends/mongodb.py): one document per task in
 * `celery_taskmeta` of the URL's database ('celery' when the URL names none), `_id` = task id,
 * `result` holding the serialized result as text (BSON Binary for binary serializers), `date_done` a
 * BSON date (Celery 5.2 wrote an ISO string; both read back). Like Celery's, it has no native expiry
 * (Celery cleans up with `celery.backend_cleanup`); `get()` polls, since MongoDB has no publish. The client comes from @nori/mongodb.
 */
import type { BrokerUrl } from '@nori/core';
import type { BackendHost, ResultBackend, ResultOrigin, StoredResult } from './backend.js';
import { ResultCodec } from './result-codec.js';
import { fromTaskMeta, pendingResult, toTaskMeta } from '../protocol/task-meta.js';
import type { TaskState } from '../states.js';
import { connectMongo, withoutOption, type MongoClient } from '../protocol/mongo-client.js';
import { closingController, waitForReady, type WaitOptions } from './wait-ready.js';

interface TaskDoc {
  _id: string;
  status: TaskState;
  result: string | Uint8Array;
  traceback: string | null;
  children: unknown[];
  date_done: Date | null;
}

/** Poll interval while waiting: from the first to the last, doubling. */
const POLL_FIRST_MS = 25;
const POLL_MAX_MS = 500;

/** nori's URL option naming the collection (Celery's mongodb_backend_settings key of the same name). */
const COLLECTION_OPTION = 'taskmeta_collection';

export class MongoBackend implements ResultBackend {
  readonly #url: BrokerUrl;
  readonly #collectionName: string;
  readonly #codec: ResultCodec;
  #client: Promise<MongoClient> | undefined;
  readonly #closing = closingController();

  constructor(
    url: string,
    private readonly host: BackendHost,
  ) {
    // Taken out of the URL the driver gets: it refuses options it does not know.
    const { url: driverUrl, value: collection } = withoutOption(url, COLLECTION_OPTION);
    this.#collectionName = collection ?? 'celery_taskmeta';
    this.#url = driverUrl;
    this.#codec = new ResultCodec(host.resultSerializer);
  }

  #connect(): Promise<MongoClient> {
    this.#client ??= connectMongo(this.#url);
    return this.#client;
  }

  async #collection() {
    const client = await this.#connect();
    return client.db(this.#url.virtualHost ?? 'celery').collection<TaskDoc>(this.#collectionName);
  }

  async storeResult(taskId: string, state: TaskState, result: unknown, options: { traceback?: string | null; origin?: ResultOrigin } = {}): Promise<void> {
    const now = Date.now();
    const meta = toTaskMeta(taskId, state, result, options.traceback ?? null, [], now);
    const encoded = this.#codec.serializer.encode(meta.result);
    const doc: TaskDoc = {
      _id: taskId,
      status: state,
      result: this.#codec.serializer.contentEncoding === 'binary' ? encoded : Buffer.from(encoded).toString('utf8'),
      traceback: meta.traceback,
      children: meta.children,
      // A BSON date, as Celery 5.3+ stores it (celery#8431): its backend_cleanup deletes `date_done < now - expires`, which never matches a string.
      date_done: meta.date_done === null ? null : new Date(now),
    };
    const collection = await this.#collection();
    // Never over a stored SUCCESS: the filter misses it, and the upsert then hits the _id (11000).
    // A second try: two first writes of one id (a redelivered run's STARTED beside the SUCCESS)
    // can both miss and both insert; the loser's 11000 then says nothing about a SUCCESS, and its
    // retry finds the winner's document and replaces it unless that one is the SUCCESS.
    for (let attempt = 1; ; attempt++) {
      try {
        await collection.replaceOne({ _id: taskId, status: { $ne: 'SUCCESS' } }, doc, { upsert: true });
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== 11000) throw error;
        if (attempt === 2) return;
      }
    }
  }

  async getResult(taskId: string): Promise<StoredResult> {
    const doc = await (await this.#collection()).findOne({ _id: taskId });
    if (!doc) return pendingResult(taskId);
    const raw = doc.result;
    // Text for text serializers; BSON Binary (read back as the driver's Binary) for the others.
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw instanceof Uint8Array ? raw : (raw as unknown as { buffer: Uint8Array }).buffer;
    return fromTaskMeta({ ...doc, task_id: doc._id, result: this.#codec.serializer.decode(bytes) }, taskId);
  }

  waitFor(taskId: string, options: WaitOptions = {}): Promise<StoredResult> {
    const watch = (onUpdate: (read: () => StoredResult) => void): Promise<() => void> => {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const poll = (delay: number): void => {
        timer = setTimeout(() => {
          this.getResult(taskId).then(
            (result) => {
              if (stopped) return;
              onUpdate(() => result);
              poll(Math.min(delay * 2, POLL_MAX_MS));
            },
            (error: unknown) =>
              onUpdate(() => {
                throw error;
              }),
          );
        }, delay);
      };
      poll(POLL_FIRST_MS);
      return Promise.resolve(() => {
        stopped = true;
        clearTimeout(timer);
      });
    };
    return waitForReady(taskId, options, this.#closing.signal, watch, () => this.getResult(taskId));
  }

  async forget(taskId: string): Promise<void> {
    await (await this.#collection()).deleteOne({ _id: taskId });
  }

  async close(): Promise<void> {
    this.#closing.abort();
    const client = this.#client;
    this.#client = undefined;
    if (client) await (await client).close();
  }
}
