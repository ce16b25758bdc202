/**
 * A long-running Python 5.2 Celery process for the events / control / beat tests (a worker with
 * events on, an event receiver script, ...): started, awaited until a line says it is ready,
 * its output kept, killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CELERY_NAMES_ENV } from '../celery-names.js';

export const PYTHON = '/usr/bin/python3';
export const PYTHON_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface PythonProcess {
  readonly process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** stdout lines that parse as JSON objects. */
  json<T = Record<string, unknown>>(): T[];
  /** Rejects, with the output, if the process exits before stop(). */
  readonly died: Promise<never>;
  stop(): Promise<void>;
}

/**
 * Spawns `/usr/bin/python3 <args>` with this directory on PYTHONPATH and the file's Celery names;
 * resolves when `ready` matches the output.
 */
export async function startPython(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 60_000): Promise<PythonProcess> {
  const child = spawn(PYTHON, args, {
    env: { ...process.env, PYTHONPATH: PYTHON_DIR, PYTHONDONTWRITEBYTECODE: '1', ...CELERY_NAMES_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    log += d.toString();
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping = false;
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      if (!stopping) reject(new Error(`python ${args.join(' ')} exited (${signal ?? code}):\n${log.slice(-4000)}`));
    }),
  );
  died.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python ${args.join(' ')} not ready after ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const check = (): void => {
      if (ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`python ${args.join(' ')} exited ${code}:\n${log}`));
    });
  });
  return {
    process: child,
    output: () => log,
    json: <T>() =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as T),
    died,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
