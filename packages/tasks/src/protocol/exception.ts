/**
 * Failures as Celery stores them: `{exc_type, exc_message, exc_module}` (celery/backends/base.py
 * `prepare_exception` / `exception_to_python`). Celery 5 writes exc_message as the exception's
 * args list; Celery 4 and some other writers a plain string, read here as a one-item list.
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChordError, TaskError, TaskRevokedError, type CeleryException } from '../errors.js';
import { safeRepr } from './repr.js';

/** The wire shape. */
export interface ExceptionInfo {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}

/**
 * Python's built-in exception names: a JS error with one of these names (TypeError, or a
 * user-named ValueError) is stored with exc_module 'builtins', so Python re-raises the real class.
 * Any other name gets module 'nori', which Python does not have and so rebuilds as a plain
 * Exception subclass of that name. ('builtins' + an arbitrary name could resolve to a builtin
 * function, which Celery refuses as a security error.)
 */
const PYTHON_BUILTINS: ReadonlySet<string> = new Set([
  'ArithmeticError',
  'AssertionError',
  'AttributeError',
  'BufferError',
  'EOFError',
  'Exception',
  'FileExistsError',
  'FileNotFoundError',
  'IndexError',
  'KeyError',
  'LookupError',
  'MemoryError',
  'NotImplementedError',
  'OSError',
  'OverflowError',
  'PermissionError',
  'RecursionError',
  'ReferenceError',
  'RuntimeError',
  'SyntaxError',
  'TimeoutError',
  'TypeError',
  'ValueError',
  'ZeroDivisionError',
]);

/** Module written for JS errors that are not Python built-ins. */
export const JS_EXCEPTION_MODULE = 'nori';

function hasCeleryFields(error: unknown): error is CeleryException {
  const e = error as Partial<CeleryException> | null;
  return typeof e === 'object' && e !== null && typeof e.excType === 'string' && Array.isArray(e.excMessage);
}

/** What a thrown value is stored as. A value thrown that is not an Error is kept as the message. */
export function encodeException(error: unknown): ExceptionInfo {
  if (hasCeleryFields(error)) {
    return { exc_type: error.excType, exc_message: [...error.excMessage], exc_module: error.excModule ?? null };
  }
  if (error instanceof Error) {
    const type = readText(() => error.name) || error.constructor.name || 'Error';
    // nori's errors with a Celery counterpart name its module (TimeLimitExceeded: billiard.exceptions).
    const own = (error as { excModule?: unknown }).excModule;
    const module = typeof own === 'string' ? own : PYTHON_BUILTINS.has(type) ? 'builtins' : JS_EXCEPTION_MODULE;
    // Python's own words for an exception whose str() fails.
    return { exc_type: type, exc_message: [readText(() => error.message) ?? `<unprintable ${type} object>`], exc_module: module };
  }
  return { exc_type: 'Error', exc_message: [typeof error === 'string' ? error : safeText(error)], exc_module: JS_EXCEPTION_MODULE };
}

/** A field of a thrown value that may be a throwing getter (a hostile or broken error): undefined when it throws or is not text. */
function readText(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Where nori's own code lives (this file is <packages>/tasks/{src,dist}/protocol/): frames there are not the task's. */
const NORI_PACKAGES = fileURLToPath(new URL('../../../', import.meta.url));
const NORI_CODE = new RegExp(`${NORI_PACKAGES.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^/\\\\]+[/\\\\](?:src|dist)[/\\\\]`);
const FRAME = /^\s+at /;
const FILE_URL = /file:\/\/[^\s)]+?(?=:\d+:\d+|\)|$)/g;

/**
 * A failure's traceback, as Python callers and Flower show it: the stack's header and the task's
 * own frames, with paths relative to the working directory instead of absolute paths and file
 * URLs; nori's frames and Node's internals dropped (all of them, for an error nori raised). Null
 * when there is no stack or reading it throws (V8 formats it through the message).
 */
export function tracebackOf(error: unknown): string | null {
  const stack = error instanceof Error ? readText(() => error.stack) : undefined;
  if (stack === undefined) return null;
  const cwd = `${process.cwd()}${sep}`;
  const lines: string[] = [];
  for (const line of stack.split('\n')) {
    if (!FRAME.test(line)) {
      lines.push(line);
      continue;
    }
    const frame = line.replace(FILE_URL, (url) => fileURLToPath(url));
    if (frame.includes('(node:') || frame.includes('at node:') || NORI_CODE.test(frame)) continue;
    lines.push(frame.split(cwd).join(''));
  }
  return lines.join('\n');
}

/**
 * The failure stored for an outcome the result backend cannot encode (a circular value, a
 * function, a Map...): Celery's kombu.exceptions.EncodeError, as its trace stores it.
 */
export function unencodable(cause: Error): TaskError {
  return new TaskError(
    { excType: 'EncodeError', excMessage: [`the task's outcome cannot be stored: ${cause.message}`], excModule: 'kombu.exceptions' },
    { cause },
  );
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? safeRepr(value);
  } catch {
    return safeRepr(value);
  }
}

/** Whether a stored result is an exception dict (anything with a string exc_type). */
export function isExceptionInfo(value: unknown): value is { exc_type: string; exc_message?: unknown; exc_module?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { exc_type?: unknown }).exc_type === 'string';
}

/**
 * The error a stored failure is read back as. Never evaluates anything named in the document:
 * exc_type and exc_module are data, not code.
 */
export function decodeException(value: unknown, taskId: string, traceback: string | null): TaskError {
  let error: TaskError;
  if (isExceptionInfo(value)) {
    const raw = value.exc_message;
    const args = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
    const module = typeof value.exc_module === 'string' ? value.exc_module : null;
    const celery = module === 'celery.exceptions';
    error =
      celery && value.exc_type === 'TaskRevokedError'
        ? new TaskRevokedError(args.length > 0 ? String(args[0]) : undefined)
        : celery && value.exc_type === 'ChordError'
          ? new ChordError(args.length > 0 ? String(args[0]) : 'chord failed')
          : new TaskError({ excType: value.exc_type, excMessage: args, excModule: module });
  } else {
    // Not an exception dict (a foreign writer, or a pickled exception this side cannot read):
    // keep what was stored as the message.
    error = new TaskError({ excType: 'Exception', excMessage: [value === undefined ? null : value], excModule: null });
  }
  error.taskId = taskId;
  error.traceback = traceback;
  return error;
}
