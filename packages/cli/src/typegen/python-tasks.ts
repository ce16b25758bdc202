/**
 * The tasks of a Python Celery app, read by running celery_tasks.py (beside this file's source)
 * under the interpreter from `PYTHON`, else `python3`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PythonAppError } from '../errors.js';

/** A Python annotation, said in Python terms (celery_tasks.py's `describe`). */
export type PythonType =
  | { t: 'int' | 'float' | 'str' | 'bool' | 'none' | 'any' }
  | { t: 'list'; item: PythonType }
  | { t: 'tuple'; items: PythonType[] }
  | { t: 'dict'; value: PythonType }
  | { t: 'union'; of: PythonType[] }
  | { t: 'literal'; values: Array<string | number | boolean | null> }
  | { t: 'object'; fields: Array<{ name: string; required: boolean; type: PythonType }> }
  | { t: 'unknown'; name: string };

export interface PythonParam {
  name: string;
  kind: 'positional' | 'var_positional' | 'keyword' | 'var_keyword';
  /** It has a default. */
  optional: boolean;
  type: PythonType;
}

export interface PythonTask {
  name: string;
  /** The function the task runs, `module.qualname`. */
  source: string;
  params: PythonParam[];
  returns: PythonType;
}

export interface PythonApp {
  celery: string;
  tasks: PythonTask[];
}

/** From dist/typegen/*.js and from src/typegen/*.ts alike: the script ships in src. */
const SCRIPT = fileURLToPath(new URL('../../src/typegen/celery_tasks.py', import.meta.url));

/**
 * Imports `<module>[:<app>]` with the working directory on sys.path, as `celery -A` does. Python's
 * stderr (the app's output, a traceback) goes to ours as it comes.
 */
export function readPythonTasks(spec: string, python = process.env.PYTHON || 'python3'): Promise<PythonApp> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [SCRIPT, spec], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `${python} was not found (set PYTHON to the interpreter of your Celery app)` : e.message;
      reject(new PythonAppError(`could not read the tasks of ${spec}: ${why}`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as PythonApp);
      else reject(new PythonAppError(`could not read the tasks of ${spec}: ${python} exited with ${code ?? signal} (its message is above)`));
    });
  });
}
