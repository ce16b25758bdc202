/**
 * Celery's Redis result backend layout (celery/backends/redis.py): the task meta document under
 * `celery-task-meta-<id>`, written with an expiry (resultExpires) and PUBLISHed on a channel of
 * the same name, so a waiting `get()` wakes without polling, in Python and in nori alike. The
 * client comes from @nori/redis (same URL, TLS, Sentinel and Cluster handling as the broker).
 */
import { parseUrl } from '@nori/core';
import { TickBatcher } from '@nori/core/spi';
import { connectRedis, type RedisClient, type RedisHandle } from '../protocol/redis-client.js';
import type { BackendHost, ResultBackend, ResultOrigin, StoredResult } from './backend.js';
import { ResultCodec } from './result-codec.js';
import { pendingResult, toTaskMeta } from '../protocol/task-meta.js';
import type { TaskState } from '../states.js';
import { closingController, waitForReady, type WaitOptions } from './wait-ready.js';

/**
 * Store each result unless its task already has a SUCCESS (Celery reads first and ignores later
 * writes, so a duplicate run never overwrites a success); here the check and the write are one
 * atomic step. A stored value that is not JSON (another result serializer) does not block the
 * write. KEYS: the result keys; ARGV: the expiry in ms (0 = none), then one document per key, so
 * the results of one tick cost one call (keys in order: a later state of the same task follows).
 */
const STORE = `
local px = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local data = ARGV[i + 1]
  local current = redis.call('GET', key)
  local succeeded = false
  if current then
    local ok, meta = pcall(cjson.decode, current)
    succeeded = ok and type(meta) == 'table' and meta['status'] == 'SUCCESS'
  end
  if not succeeded then
    if px > 0 then
      redis.call('SET', key, data, 'PX', px)
    else
      redis.call('SET', key, data)
    end
    redis.call('PUBLISH', key, data)
  end
end
return 0
`;

export const TASK_KEY_PREFIX = 'celery-task-meta-';

/**
 * This backend's commands come one a tick (a wait's GET; the STORE of a tick's results is one call
 * already): each is written when called, not in an autopipeline of its own.
 */
const UNPIPELINED = ['get', 'evalsha', 'eval', 'del'];

/**
 * How long a channel whose last wait ended stays subscribed: the channels left in that time go in
 * one UNSUBSCRIBE, not one each (a client awaiting one result after another made one a task).
 */
export const UNSUBSCRIBE_AFTER_MS = 100;

type Clients = RedisHandle<'store'>;
type Watcher = (data: Buffer) => void;

export class RedisBackend implements ResultBackend {
  readonly #url: string;
  readonly #codec: ResultCodec;
  #clients: Promise<Clients> | undefined;
  /** The clients once connected: a store per task need not wait on the promise above. */
  #ready: Clients | undefined;
  #subscriber: RedisClient | undefined;
  /** The waits on each channel: the one wait's watcher as it is (the usual case), a Set for several. */
  readonly #watchers = new Map<string, Watcher | Set<Watcher>>();
  /** Channels no wait watches any more, still subscribed until the next UNSUBSCRIBE. */
  readonly #leaving = new Set<string>();
  /** Channels whose first SUBSCRIBE is not answered yet: a later wait reads only once it is. */
  readonly #subscribing = new Map<string, Promise<unknown>>();
  #unsubscribeTimer: NodeJS.Timeout | undefined;
  readonly #closing = closingController();
  /** Results stored in one tick, written by one STORE call (one per key on a Cluster: keys of other slots). */
  readonly #writes = new TickBatcher<{ key: string; data: string | Buffer }>(
    async (_, items) => {
      const { client, scripts } = this.#ready ?? (await this.#connect());
      const expires = Math.max(0, Math.round(this.host.resultExpires));
      const batches = client.isCluster ? items.map((item) => [item]) : [items];
      await Promise.all(
        batches.map((batch) =>
          scripts.store.run(
            client,
            batch.map((w) => w.key),
            [expires, ...batch.map((w) => w.data as unknown as string)],
          ),
        ),
      );
    },
    { perItem: false },
  );

  constructor(
    url: string,
    private readonly host: BackendHost,
  ) {
    parseUrl(url); // a malformed URL fails here, not at the first store
    this.#url = url;
    this.#codec = new ResultCodec(host.resultSerializer);
  }

  #connect(): Promise<Clients> {
    if (this.#clients) return this.#clients;
    const clients = connectRedis(this.#url, this.host.logger, { store: STORE }, UNPIPELINED).then((ready) => {
      // Not when close() came first: the next store connects afresh, as it did before.
      if (this.#clients === clients) this.#ready = ready;
      return ready;
    });
    this.#clients = clients;
    return clients;
  }

  #key(prefix: string, taskId: string): string {
    return `${prefix}${TASK_KEY_PREFIX}${taskId}`;
  }

  async storeResult(taskId: string, state: TaskState, result: unknown, options: { traceback?: string | null; origin?: ResultOrigin } = {}): Promise<void> {
    const { prefix } = this.#ready ?? (await this.#connect());
    const data = this.#codec.encodeArgument(toTaskMeta(taskId, state, result, options.traceback ?? null));
    await this.#writes.add('', { key: this.#key(prefix, taskId), data });
  }

  async getResult(taskId: string): Promise<StoredResult> {
    const { client, prefix } = this.#ready ?? (await this.#connect());
    const data = await client.getBuffer(this.#key(prefix, taskId));
    return data ? this.#codec.decode(data, taskId) : pendingResult(taskId);
  }

  waitFor(taskId: string, options: WaitOptions = {}): Promise<StoredResult> {
    const watch = async (onUpdate: (read: () => StoredResult) => void): Promise<() => void> => {
      const { client, prefix } = this.#ready ?? (await this.#connect());
      const channel = this.#key(prefix, taskId);
      const watcher: Watcher = (data) => onUpdate(() => this.#codec.decode(data, taskId));
      const others = this.#watchers.get(channel);
      // A channel still subscribed (its UNSUBSCRIBE not sent yet) needs no SUBSCRIBE.
      const first = others === undefined && !this.#leaving.delete(channel);
      if (others === undefined) this.#watchers.set(channel, watcher);
      else if (others instanceof Set) others.add(watcher);
      else this.#watchers.set(channel, new Set([others, watcher]));
      const stop = (): void => {
        const watching = this.#watchers.get(channel);
        const last = watching === watcher || (watching instanceof Set && watching.delete(watcher) && watching.size === 0);
        if (!last) return;
        this.#watchers.delete(channel);
        if (!this.#closing.signal.aborted) this.#leave(channel);
      };
      try {
        if (first) {
          const subscribing = this.#subscribed(client).subscribe(channel);
          this.#subscribing.set(channel, subscribing);
          await subscribing.finally(() => this.#subscribing.delete(channel));
        } else {
          // Reading before the first wait's SUBSCRIBE is in would miss a result published meanwhile.
          await this.#subscribing.get(channel);
        }
      } catch (error) {
        stop();
        throw error;
      }
      return stop;
    };
    return waitForReady(taskId, options, this.#closing.signal, watch, () => this.getResult(taskId));
  }

  #leave(channel: string): void {
    this.#leaving.add(channel);
    this.#unsubscribeTimer ??= setTimeout(() => {
      this.#unsubscribeTimer = undefined;
      const channels = [...this.#leaving];
      this.#leaving.clear();
      if (channels.length > 0) this.#subscriber?.unsubscribe(...channels).catch(() => undefined);
    }, UNSUBSCRIBE_AFTER_MS).unref();
  }

  #subscribed(client: RedisClient): RedisClient {
    if (!this.#subscriber) {
      // ioredis 6 types Redis#duplicate and Cluster#duplicate apart; each returns its own kind.
      const subscriber = (client.duplicate as () => RedisClient).call(client);
      subscriber.on('error', () => undefined);
      subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
        const watching = this.#watchers.get(channel.toString());
        if (watching instanceof Set) for (const watcher of watching) watcher(message);
        else watching?.(message);
      });
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }

  async forget(taskId: string): Promise<void> {
    const { client, prefix } = await this.#connect();
    await client.del(this.#key(prefix, taskId));
  }

  async close(): Promise<void> {
    this.#closing.abort();
    clearTimeout(this.#unsubscribeTimer);
    this.#unsubscribeTimer = undefined;
    this.#leaving.clear();
    const clients = this.#clients;
    this.#clients = undefined;
    this.#ready = undefined;
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
    if (clients) (await clients).client.disconnect();
  }
}
