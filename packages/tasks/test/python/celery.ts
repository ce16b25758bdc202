/**
 * Drive a real Python Celery 5.2 (Debian's /usr/bin/python3) from the interop tests: a worker
 * process running interop_app.py, and interop_client.py for sending and reading results.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CELERY_NAMES_ENV } from '../celery-names.js';
import { PYTHON, PYTHON_DIR as here, startPython, type PythonProcess } from './python-process.js';

const run = promisify(execFile);

export interface CeleryEnv {
  broker: string;
  /** Result backend URL; none disables results. */
  backend?: string;
  queue: string;
  /** Declare queues with this x-max-priority (Celery's task_queue_max_priority). */
  maxPriority?: number;
  /** The Celery app module and the directory it is in; default interop_app beside this file. */
  app?: { module: string; dir: string };
  /** More environment for the process (another app module's own settings). */
  env?: Record<string, string>;
}

function env(e: CeleryEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...CELERY_NAMES_ENV,
    PYTHONPATH: e.app?.dir ?? here,
    NORI_BROKER: e.broker,
    NORI_BACKEND: e.backend ?? '',
    NORI_QUEUE: e.queue,
    NORI_MAX_PRIORITY: e.maxPriority === undefined ? '' : String(e.maxPriority),
    PYTHONDONTWRITEBYTECODE: '1',
    ...e.env,
  };
}

export interface PythonResult {
  id: string;
  state: string;
  value?: unknown;
  exc_type?: string;
  exc_module?: string;
  exc_args?: unknown[];
  traceback?: string | null;
  date_done?: string;
  error?: string;
}

export interface PythonTaskCall {
  name: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** apply_async options, Celery's names and units (countdown in seconds, ...). */
  options?: Record<string, unknown>;
}

async function client<T>(e: CeleryEnv, request: object, timeoutMs = 60_000): Promise<T> {
  const { stdout } = await run(PYTHON, [`${here}interop_client.py`, JSON.stringify(request)], { env: env(e), timeout: timeoutMs });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as T;
}

/** Send with Python's `send_task`; the task ids. */
export const pythonSend = (e: CeleryEnv, tasks: PythonTaskCall[]): Promise<string[]> => client(e, { op: 'send', tasks });
/** Send with Python, then `AsyncResult.get()` each in Python. */
export const pythonCall = (e: CeleryEnv, tasks: PythonTaskCall[], timeout = 30): Promise<PythonResult[]> =>
  client(e, { op: 'call', tasks, timeout }, (timeout + 30) * 1000);
/** Python's `AsyncResult(id).get(propagate=False)` of each id. */
/** Python starts a chain of the tasks (Celery's `chain(...).apply_async()`) and waits for its last result. */
export const pythonChain = (e: CeleryEnv, tasks: PythonTaskCall[], timeout = 30): Promise<PythonResult> =>
  client(e, { op: 'chain', tasks, timeout }, (timeout + 30) * 1000);

export const pythonGet = (e: CeleryEnv, ids: string[], timeout = 30): Promise<PythonResult[]> => client(e, { op: 'get', ids, timeout }, (timeout + 30) * 1000);
/** Store a state with Celery's own backend code (`exception` raises interop_app.InteropError(message)). */
export const pythonStore = (
  e: CeleryEnv,
  spec: { id: string; state: string; result?: unknown; exception?: { message: string }; traceback?: string },
): Promise<void> => client(e, { op: 'store', ...spec });

/**
 * Send a task with Python, poll `AsyncResult.state` until it is `state`, create the file `gate`
 * (the task waits for it), then `get()`: the state and `info` Python saw, and the result.
 */
export const pythonProgress = (
  e: CeleryEnv,
  spec: { task: PythonTaskCall; state: string; gate: string },
  timeout = 30,
): Promise<{ seen: { state: string; info: unknown }; result: PythonResult }> => client(e, { op: 'progress', ...spec, timeout }, (timeout * 2 + 30) * 1000);

export type CeleryWorker = PythonProcess;

/** A `celery worker` on the queue (`--pool solo` unless `pool` says otherwise); resolves once it is consuming. */
export function startCeleryWorker(
  e: CeleryEnv,
  o: { pool?: 'solo' | 'threads' | 'prefork'; concurrency?: number; node?: string; extraArgs?: readonly string[] } = {},
): Promise<CeleryWorker> {
  const args = ['-m', 'celery', '-A', e.app?.module ?? 'interop_app', 'worker', '--pool', o.pool ?? 'solo'];
  if (o.concurrency !== undefined) args.push('-c', String(o.concurrency));
  args.push(
    '-Q',
    e.queue,
    '-n',
    o.node ?? `${e.queue}@%h`,
    '--without-gossip',
    '--without-mingle',
    '--without-heartbeat',
    '-l',
    'INFO',
    ...(o.extraArgs ?? []),
  );
  return startPython(args, env(e), /ready\./);
}
