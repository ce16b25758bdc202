/**
 * Beat's lock, state and stored schedules in MongoDB, for apps whose result backend is MongoDB
 * (and no Redis): collection `nori_beat` of the URL's database ('celery' when it names none), one
 * document per thing, keyed `<beat name>:<kind>[:<entry>]` so entry names never become field
 * paths (a dot or a dollar in a name is data):
 *
 * - `lock` `{holder, expires}`: taken by an update whose filter matches only a lapsed lock (or by
 *   the insert of a missing one: a second insert of the same `_id` fails), renewed only by its holder;
 * - `run:<entry>` `{entry, lastRun, pending}`: `lastRun` only moves forward (`$max`); `pending`
 *   is set only while the lock is this process's (checked just before: see the file store's note);
 * - `entry:<entry>` `{entry, def}` (a stored entry), `off:<entry>` (turned off), `code` (the
 *   leader's code entries, as a list);
 * - `log` `{version, changes}`: moved on by compare-and-set on `version` after each change's own
 *   write, so the leader, which reads the version each tick, always finds the change it announces.
 *   A process that dies between the two leaves its change for the next change or leader to load.
 */
import { connectMongo, withoutOption, type MongoClient } from '../protocol/mongo-client.js';
import type { BeatStore } from './beat-store.js';
import { CHANGES_KEPT, type CodeEntry, type ScheduleChange, type StoredEntry, type StoredSchedules } from './stored-entry.js';

interface BeatDoc {
  _id: string;
  beat: string;
  kind: 'lock' | 'run' | 'entry' | 'off' | 'code' | 'log';
  entry?: string;
  holder?: string;
  expires?: number;
  lastRun?: number;
  pending?: number | null;
  def?: StoredEntry;
  code?: Array<[string, CodeEntry]>;
  version?: number;
  changes?: ScheduleChange[];
}

const DUPLICATE_KEY = 11000;
const isDuplicate = (error: unknown): boolean => (error as { code?: number }).code === DUPLICATE_KEY;

export class MongoBeatStore implements BeatStore {
  readonly #name: string;
  readonly #url: ReturnType<typeof withoutOption>['url'];
  #client: Promise<MongoClient> | undefined;

  constructor(url: string, name: string) {
    this.#name = name;
    // The result backend's own option, which the driver would refuse.
    this.#url = withoutOption(url, 'taskmeta_collection').url;
  }

  async #docs() {
    this.#client ??= connectMongo(this.#url);
    return (await this.#client).db(this.#url.virtualHost ?? 'celery').collection<BeatDoc>('nori_beat');
  }

  #id(kind: BeatDoc['kind'], entry?: string): string {
    return entry === undefined ? `${this.#name}:${kind}` : `${this.#name}:${kind}:${entry}`;
  }

  async lead(me: string, ttl: number): Promise<boolean> {
    const docs = await this.#docs();
    const now = Date.now();
    const _id = this.#id('lock');
    const renewed = await docs.updateOne({ _id, holder: me }, { $set: { expires: now + ttl } });
    if (renewed.matchedCount === 1) return true;
    const taken = await docs.updateOne({ _id, expires: { $lt: now } }, { $set: { holder: me, expires: now + ttl } });
    if (taken.matchedCount === 1) return true;
    try {
      await docs.insertOne({ _id, beat: this.#name, kind: 'lock', holder: me, expires: now + ttl });
      return true;
    } catch (error) {
      if (isDuplicate(error)) return false;
      throw error;
    }
  }

  async #holds(me: string): Promise<boolean> {
    const lock = await (await this.#docs()).findOne({ _id: this.#id('lock') });
    return lock?.holder === me && (lock.expires ?? 0) > Date.now();
  }

  async #runs(): Promise<BeatDoc[]> {
    return (await this.#docs()).find({ beat: this.#name, kind: 'run' }).toArray();
  }

  async lastRuns(): Promise<Map<string, number>> {
    return new Map((await this.#runs()).filter((d) => typeof d.lastRun === 'number').map((d) => [d.entry as string, d.lastRun as number]));
  }

  async pending(): Promise<Map<string, number>> {
    return new Map((await this.#runs()).filter((d) => typeof d.pending === 'number').map((d) => [d.entry as string, d.pending as number]));
  }

  async begin(me: string, entry: string, due: number): Promise<boolean> {
    if (!(await this.#holds(me))) return false;
    const docs = await this.#docs();
    await docs.updateOne({ _id: this.#id('run', entry) }, { $set: { beat: this.#name, kind: 'run', entry, pending: due } }, { upsert: true });
    return true;
  }

  async commit(entry: string, due: number): Promise<void> {
    const docs = await this.#docs();
    const _id = this.#id('run', entry);
    await docs.updateOne({ _id }, { $max: { lastRun: due }, $set: { beat: this.#name, kind: 'run', entry } }, { upsert: true });
    await docs.updateOne({ _id, pending: due }, { $set: { pending: null } });
  }

  async resign(me: string): Promise<void> {
    await (await this.#docs()).deleteOne({ _id: this.#id('lock'), holder: me });
  }

  async schedulesVersion(): Promise<number> {
    const log = await (await this.#docs()).findOne({ _id: this.#id('log') });
    return log?.version ?? 0;
  }

  async schedules(): Promise<StoredSchedules> {
    const all = await (await this.#docs()).find({ beat: this.#name, kind: { $in: ['entry', 'off', 'code', 'log'] } }).toArray();
    const of = (kind: BeatDoc['kind']): BeatDoc[] => all.filter((d) => d.kind === kind);
    return {
      version: of('log')[0]?.version ?? 0,
      entries: new Map(of('entry').map((d) => [d.entry as string, d.def as StoredEntry])),
      disabled: new Set(of('off').map((d) => d.entry as string)),
      code: new Map(of('code')[0]?.code ?? []),
    };
  }

  /** Logs a change and moves the version on, by compare-and-set (another writer in between: again). */
  async #log(change: ScheduleChange): Promise<void> {
    const docs = await this.#docs();
    const _id = this.#id('log');
    for (;;) {
      const log = await docs.findOne({ _id });
      if (!log) {
        try {
          await docs.insertOne({ _id, beat: this.#name, kind: 'log', version: 1, changes: [change] });
          return;
        } catch (error) {
          if (!isDuplicate(error)) throw error;
          continue;
        }
      }
      const changes = [change, ...(log.changes ?? [])].slice(0, CHANGES_KEPT);
      const moved = await docs.updateOne({ _id, version: log.version }, { $set: { version: (log.version ?? 0) + 1, changes } });
      if (moved.matchedCount === 1) return;
    }
  }

  async #setOff(entry: string, off: boolean): Promise<void> {
    const docs = await this.#docs();
    const _id = this.#id('off', entry);
    if (off) await docs.updateOne({ _id }, { $set: { beat: this.#name, kind: 'off', entry } }, { upsert: true });
    else await docs.deleteOne({ _id });
  }

  async #hasCode(entry: string): Promise<boolean> {
    const code = await (await this.#docs()).findOne({ _id: this.#id('code') });
    return (code?.code ?? []).some(([name]) => name === entry);
  }

  async upsert(name: string, entry: StoredEntry, enabled: boolean | undefined, change: ScheduleChange): Promise<void> {
    const docs = await this.#docs();
    await docs.updateOne({ _id: this.#id('entry', name) }, { $set: { beat: this.#name, kind: 'entry', entry: name, def: entry } }, { upsert: true });
    if (enabled !== undefined) await this.#setOff(name, !enabled);
    await this.#log(change);
  }

  async remove(name: string, change: ScheduleChange): Promise<boolean> {
    const docs = await this.#docs();
    if ((await docs.deleteOne({ _id: this.#id('entry', name) })).deletedCount === 0) return false;
    if (!(await this.#hasCode(name))) {
      await this.#setOff(name, false);
      await docs.deleteOne({ _id: this.#id('run', name) });
    }
    await this.#log(change);
    return true;
  }

  async setEnabled(name: string, enabled: boolean, change: ScheduleChange): Promise<boolean> {
    const docs = await this.#docs();
    if (!(await docs.findOne({ _id: this.#id('entry', name) })) && !(await this.#hasCode(name))) return false;
    await this.#setOff(name, !enabled);
    await this.#log(change);
    return true;
  }

  async changes(limit: number): Promise<ScheduleChange[]> {
    const log = await (await this.#docs()).findOne({ _id: this.#id('log') });
    return (log?.changes ?? []).slice(0, limit);
  }

  async publishCode(entries: ReadonlyMap<string, CodeEntry>): Promise<void> {
    await (await this.#docs()).updateOne({ _id: this.#id('code') }, { $set: { beat: this.#name, kind: 'code', code: [...entries] } }, { upsert: true });
  }

  async clear(): Promise<void> {
    await (await this.#docs()).deleteMany({ beat: this.#name });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await (await client).close();
  }
}
