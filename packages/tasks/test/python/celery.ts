/**
 * Drive a real Python Celery 5.2 (Debian's /usr/bin/python3) from the interop tests: a worker
 * process running interop_app.py, and interop_client.py for sending and reading results.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CELERY_NAMES_ENV } from '../celery-names.js';

const run = promisify(execFile);
export const PYTHON = '/usr/bin/python3';
const here = fileURLToPath(new URL('.', import.meta.url));

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
export const pythonGet = (e: CeleryEnv, ids: string[], timeout = 30): Promise<PythonResult[]> => client(e, { op: 'get', ids, timeout }, (timeout + 30) * 1000);
/** Store a state with Celery's own backend code (`exception` raises interop_app.InteropError(message)). */
export const pythonStore = (
  e: CeleryEnv,
  spec: { id: string; state: string; result?: unknown; exception?: { message: string }; traceback?: string },
): Promise<void> => client(e, { op: 'store', ...spec });

export interface CeleryWorker {
  readonly process: ChildProcess;
  /** Everything the worker logged so far. */
  output(): string;
  /** Rejects, with the worker's log, if the worker exits before stop(). */
  readonly died: Promise<never>;
  stop(): Promise<void>;
}

/** A `celery worker --pool solo` on the queue; resolves once it is consuming. */
export async function startCeleryWorker(e: CeleryEnv, extraArgs: string[] = []): Promise<CeleryWorker> {
  const child = spawn(
    PYTHON,
    [
      '-m',
      'celery',
      '-A',
      e.app?.module ?? 'interop_app',
      'worker',
      '--pool',
      'solo',
      '-Q',
      e.queue,
      '-n',
      `${e.queue}@%h`,
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
      '-l',
      'INFO',
      ...extraArgs,
    ],
    { env: env(e), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const onData = (d: Buffer): void => {
    log += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      if (!stopping) reject(new Error(`celery worker exited (${signal ?? code}):\n${log.slice(-4000)}`));
    }),
  );
  died.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`celery worker not ready after 60 s:\n${log}`)), 60_000);
    const check = (): void => {
      if (/ready\./.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`celery worker exited ${code}:\n${log}`));
    });
  });
  return {
    process: child,
    output: () => log,
    died,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}
