/**
 * What events say about the cluster (celery/events/state.py, trimmed): workers by hostname, alive
 * while heartbeats keep coming (within twice their interval, Celery's HEARTBEAT_EXPIRE_WINDOW), and
 * tasks by id with the state each event moved them to. Tasks are an LRU bounded by `maxTasks`, so
 * a long-running monitor holds a fixed amount of memory.
 */
import { warnDuplicateNodenames } from '../control/duplicate-nodename.js';
import { fromSeconds } from '../protocol/units.js';
import { localTimestamp, type CeleryEvent } from './event.js';

/** The state a task event moves a task to (Celery's TASK_EVENT_TO_STATE). */
const TASK_STATE: Readonly<Record<string, string>> = {
  'task-sent': 'PENDING',
  'task-received': 'RECEIVED',
  'task-started': 'STARTED',
  'task-succeeded': 'SUCCESS',
  'task-failed': 'FAILURE',
  'task-retried': 'RETRY',
  'task-revoked': 'REVOKED',
  'task-rejected': 'REJECTED',
};

/** A ready state is not overwritten by an earlier state arriving late. */
const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);

export interface WorkerSnapshot {
  hostname: string;
  /** Heartbeat interval the worker announced, ms. */
  freq: number;
  /** When the last heartbeat (or online) arrived, local ms. */
  lastHeartbeat: number | undefined;
  online: boolean;
  active: number | undefined;
  processed: number | undefined;
  loadavg: readonly number[] | undefined;
  pid: number | undefined;
  swIdent: string | undefined;
  swVer: string | undefined;
  swSys: string | undefined;
}

export interface TaskSnapshot {
  uuid: string;
  name: string | undefined;
  state: string;
  hostname: string | undefined;
  args: string | undefined;
  kwargs: string | undefined;
  result: string | undefined;
  exception: string | undefined;
  traceback: string | undefined;
  /** Seconds, as the worker reported it. */
  runtime: number | undefined;
  rootId: string | undefined;
  parentId: string | undefined;
  retries: number | undefined;
  /** The meta of the last state the task reported (a task-progress event: `state` is its name). */
  meta: unknown;
  /** Every event seen for the task, in arrival order: its type, the state it set, its (local) time in ms. */
  history: Array<{ type: string; state: string; timestamp: number }>;
}

export interface EventStateOptions {
  /** Tasks kept (least recently updated dropped first). Default 10 000. */
  maxTasks?: number;
  /** Workers kept. Default 5000. */
  maxWorkers?: number;
}

/** The state a task-progress event names (a custom state: any non-empty string). */
const reported = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : JSON.stringify(v));
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export class EventState {
  readonly maxTasks: number;
  readonly maxWorkers: number;
  readonly #workers = new Map<string, WorkerSnapshot>();
  readonly #tasks = new Map<string, TaskSnapshot>();
  /** hostname → the pid its events came from before the current one. */
  readonly #previousPid = new Map<string, number>();
  /** Events seen. */
  eventCount = 0;

  constructor(options: EventStateOptions = {}) {
    this.maxTasks = options.maxTasks ?? 10_000;
    this.maxWorkers = options.maxWorkers ?? 5000;
  }

  /** Feed one event (use as the `*` handler of a receiver). */
  event = (event: CeleryEvent): void => {
    this.eventCount++;
    if (event.type.startsWith('worker-')) this.#onWorker(event);
    else if (event.type.startsWith('task-') && typeof event.uuid === 'string') this.#onTask(event, event.uuid);
  };

  get workers(): ReadonlyMap<string, WorkerSnapshot> {
    return this.#workers;
  }

  get tasks(): ReadonlyMap<string, TaskSnapshot> {
    return this.#tasks;
  }

  /** Alive: online and a heartbeat within twice its interval. */
  alive(hostname: string, now = Date.now()): boolean {
    const w = this.#workers.get(hostname);
    return !!w && w.online && w.lastHeartbeat !== undefined && now - w.lastHeartbeat <= w.freq * 2;
  }

  aliveWorkers(now = Date.now()): WorkerSnapshot[] {
    return [...this.#workers.values()].filter((w) => this.alive(w.hostname, now));
  }

  task(uuid: string): TaskSnapshot | undefined {
    return this.#tasks.get(uuid);
  }

  /**
   * Events of one live node name from pid A, then B, then A again are two workers sharing the name
   * (a worker restarted under its name goes A, A, B, B and is not one).
   */
  #checkPid(w: WorkerSnapshot, pid: number | undefined): void {
    if (pid === undefined || w.pid === undefined || pid === w.pid) return;
    if (this.#previousPid.get(w.hostname) === pid && this.alive(w.hostname))
      warnDuplicateNodenames([w.hostname], `Events from two processes (pids ${w.pid} and ${pid}) under`);
    this.#previousPid.set(w.hostname, w.pid);
  }

  #onWorker(e: CeleryEvent): void {
    let w = this.#workers.get(e.hostname);
    if (!w) {
      w = {
        hostname: e.hostname,
        freq: 2000,
        lastHeartbeat: undefined,
        online: false,
        active: undefined,
        processed: undefined,
        loadavg: undefined,
        pid: undefined,
        swIdent: undefined,
        swVer: undefined,
        swSys: undefined,
      };
      this.#workers.set(e.hostname, w);
      if (this.#workers.size > this.maxWorkers) {
        const oldest = this.#workers.keys().next().value as string;
        this.#workers.delete(oldest);
        this.#previousPid.delete(oldest);
      }
    }
    this.#checkPid(w, num(e.pid));
    const freq = num(e['freq']);
    if (freq !== undefined) w.freq = fromSeconds(freq);
    w.pid = num(e.pid) ?? w.pid;
    w.active = num(e['active']) ?? w.active;
    w.processed = num(e['processed']) ?? w.processed;
    if (Array.isArray(e['loadavg'])) w.loadavg = e['loadavg'] as number[];
    w.swIdent = text(e['sw_ident']) ?? w.swIdent;
    w.swVer = text(e['sw_ver']) ?? w.swVer;
    w.swSys = text(e['sw_sys']) ?? w.swSys;
    if (e.type === 'worker-offline') {
      w.online = false;
    } else {
      w.online = true;
      w.lastHeartbeat = Date.now();
    }
  }

  #onTask(e: CeleryEvent, uuid: string): void {
    let t = this.#tasks.get(uuid);
    if (t) {
      this.#tasks.delete(uuid); // re-inserted below: most recently updated last
    } else {
      t = {
        uuid,
        name: undefined,
        state: 'PENDING',
        hostname: undefined,
        args: undefined,
        kwargs: undefined,
        result: undefined,
        exception: undefined,
        traceback: undefined,
        runtime: undefined,
        rootId: undefined,
        parentId: undefined,
        retries: undefined,
        meta: undefined,
        history: [],
      };
    }
    this.#tasks.set(uuid, t);
    if (this.#tasks.size > this.maxTasks) this.#tasks.delete(this.#tasks.keys().next().value as string);
    const state = TASK_STATE[e.type] ?? (e.type === 'task-progress' ? reported(e['state']) : undefined) ?? t.state;
    t.history.push({ type: e.type, state, timestamp: fromSeconds(localTimestamp(e)) });
    if (!READY.has(t.state) || READY.has(state)) t.state = state;
    t.name = text(e['name']) ?? t.name;
    if (e.type !== 'task-sent') t.hostname = e.hostname;
    t.args = text(e['args']) ?? t.args;
    t.kwargs = text(e['kwargs']) ?? t.kwargs;
    t.result = text(e['result']) ?? t.result;
    t.exception = text(e['exception']) ?? t.exception;
    t.traceback = text(e['traceback']) ?? t.traceback;
    t.runtime = num(e['runtime']) ?? t.runtime;
    t.rootId = text(e['root_id']) ?? t.rootId;
    t.parentId = text(e['parent_id']) ?? t.parentId;
    t.retries = num(e['retries']) ?? t.retries;
    if (e.type === 'task-progress') t.meta = e['meta'];
  }
}
