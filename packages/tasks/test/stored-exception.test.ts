/**
 * Failures as Celery stores them, on their own: what a thrown value is written as (a Python
 * built-in's module, nori's module for the rest, an error's own module, hostile getters, values
 * that are no Error), the traceback kept (the task's frames, not nori's or Node's), and what a
 * stored exception dict from either language is read back as (Celery's own errors by class).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChordError, TaskError, TaskRevokedError } from '@nori/tasks';
import { decodeException, encodeException } from '@nori/tasks/protocol';
import { isExceptionInfo, tracebackOf, unencodable } from '../src/protocol/exception.js';

class ParseFailure extends Error {}

describe('encodeException', () => {
  it("keeps an error's Celery fields, its exc_module null when it has none", () => {
    const excMessage = ['a', 1];
    const info = encodeException({ excType: 'KeyError', excMessage, excModule: undefined });
    expect(info).toEqual({ exc_type: 'KeyError', exc_message: ['a', 1], exc_module: null });
    expect(info.exc_message).not.toBe(excMessage);
    expect(encodeException(new TaskError({ excType: 'ValueError', excMessage: ['v'], excModule: 'builtins' }))).toEqual({
      exc_type: 'ValueError',
      exc_message: ['v'],
      exc_module: 'builtins',
    });
  });

  it("names Python's built-ins' module 'builtins', any other 'nori', and an error's own module as it says", () => {
    expect(encodeException(new TypeError('t'))).toEqual({ exc_type: 'TypeError', exc_message: ['t'], exc_module: 'builtins' });
    const named = new Error('v');
    named.name = 'ValueError';
    expect(encodeException(named)).toEqual({ exc_type: 'ValueError', exc_message: ['v'], exc_module: 'builtins' });
    expect(encodeException(new ParseFailure('p'))).toEqual({ exc_type: 'Error', exc_message: ['p'], exc_module: 'nori' });
    const own = Object.assign(new Error('late'), { name: 'TimeLimitExceeded', excModule: 'billiard.exceptions' });
    expect(encodeException(own)).toEqual({ exc_type: 'TimeLimitExceeded', exc_message: ['late'], exc_module: 'billiard.exceptions' });
    const notText = Object.assign(new TypeError('x'), { excModule: 5 });
    expect(encodeException(notText).exc_module).toBe('builtins');
  });

  it("takes the class's name when the name is blank or throws, and Python's words when the message throws", () => {
    const blank = new ParseFailure('b');
    blank.name = '';
    expect(encodeException(blank)).toEqual({ exc_type: 'ParseFailure', exc_message: ['b'], exc_module: 'nori' });
    const anonymous = new Error('a');
    anonymous.name = '';
    Object.defineProperty(anonymous, 'constructor', { value: { name: '' } });
    expect(encodeException(anonymous).exc_type).toBe('Error');
    const hostile = new ParseFailure('h');
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('no name');
      },
    });
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('no message');
      },
    });
    expect(encodeException(hostile)).toEqual({ exc_type: 'ParseFailure', exc_message: ['<unprintable ParseFailure object>'], exc_module: 'nori' });
    const numeric = new TypeError('n');
    Object.defineProperty(numeric, 'message', { value: 42 });
    expect(encodeException(numeric).exc_message).toEqual(['<unprintable TypeError object>']);
  });

  it('keeps a value thrown that is no Error as the message: text as it is, the rest as JSON or its repr', () => {
    expect(encodeException('boom')).toEqual({ exc_type: 'Error', exc_message: ['boom'], exc_module: 'nori' });
    expect(encodeException({ code: 7 })).toEqual({ exc_type: 'Error', exc_message: ['{"code":7}'], exc_module: 'nori' });
    expect(encodeException(null)).toEqual({ exc_type: 'Error', exc_message: ['null'], exc_module: 'nori' });
    expect(encodeException(undefined).exc_message).toEqual(['None']);
    expect(encodeException(10n).exc_message).toEqual(['10']);
    expect(encodeException(Object.assign(new RangeError('r'), { excMessage: ['x'] }))).toEqual({
      exc_type: 'RangeError',
      exc_message: ['r'],
      exc_module: 'nori',
    });
    expect(encodeException({ excType: 'X', excMessage: 'not a list' }).exc_message).toEqual(['{"excType":"X","excMessage":"not a list"}']);
  });
});

describe('tracebackOf', () => {
  it("keeps the header and the task's frames, relative to the working directory; drops nori's and Node's", () => {
    const cwd = process.cwd();
    const nori = fileURLToPath(new URL('../../core/src/connection.ts', import.meta.url));
    const noriBuilt = fileURLToPath(new URL('../dist/worker/tracer.js', import.meta.url));
    const error = new Error('boom');
    error.stack = [
      'Error: boom',
      `  reading ${cwd}/app/data.json (node:fs)`,
      `    at userTask (${cwd}/app/tasks.js:3:9)`,
      `    at ${pathToFileURL(`${cwd}/app/esm.mjs`).href}:5:1`,
      `    at wrapped (${pathToFileURL(`${cwd}/app/esm.mjs`).href}:6:2)`,
      `    at Connection.publish (${nori}:10:3)`,
      `    at trace (${noriBuilt}:1:1)`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at node:internal/main/run_main_module:28:49',
      `    at helper (${cwd}/packages/tasks/test/helper.ts:1:1)`,
      `    at elsewhere (/opt/lib/x.js:1:1)`,
    ].join('\n');
    expect(tracebackOf(error)?.split('\n')).toEqual([
      'Error: boom',
      `  reading ${cwd}/app/data.json (node:fs)`,
      '    at userTask (app/tasks.js:3:9)',
      '    at app/esm.mjs:5:1',
      '    at wrapped (app/esm.mjs:6:2)',
      '    at helper (packages/tasks/test/helper.ts:1:1)',
      '    at elsewhere (/opt/lib/x.js:1:1)',
    ]);
  });

  it('is null without a readable stack', () => {
    expect(tracebackOf('boom')).toBeNull();
    const noStack = new Error('x');
    Object.defineProperty(noStack, 'stack', { value: undefined });
    expect(tracebackOf(noStack)).toBeNull();
    const throwing = new Error('x');
    Object.defineProperty(throwing, 'stack', {
      get() {
        throw new Error('no stack');
      },
    });
    expect(tracebackOf(throwing)).toBeNull();
  });
});

describe('decodeException', () => {
  it('reads an exception dict as a TaskError of the task, exc_message a string or missing as Celery 4 wrote it', () => {
    const read = decodeException({ exc_type: 'KeyError', exc_message: ['k', 2], exc_module: 'builtins' }, 't-1', 'Traceback');
    expect(read).toBeInstanceOf(TaskError);
    expect(read).toMatchObject({ excType: 'KeyError', excMessage: ['k', 2], excModule: 'builtins', taskId: 't-1', traceback: 'Traceback' });
    expect(decodeException({ exc_type: 'ValueError', exc_message: 'v', exc_module: 5 }, 't', null)).toMatchObject({ excMessage: ['v'], excModule: null });
    expect(decodeException({ exc_type: 'ValueError', exc_message: null }, 't', null).excMessage).toEqual([]);
    expect(decodeException({ exc_type: 'ValueError' }, 't', null).excMessage).toEqual([]);
    expect(decodeException({ exc_type: 'ValueError', exc_message: 0 }, 't', null).excMessage).toEqual([0]);
  });

  it("reads Celery's TaskRevokedError and ChordError as nori's classes, only from celery.exceptions", () => {
    const revoked = decodeException({ exc_type: 'TaskRevokedError', exc_message: ['terminated'], exc_module: 'celery.exceptions' }, 't-2', null);
    expect(revoked).toBeInstanceOf(TaskRevokedError);
    expect(revoked).toMatchObject({ excMessage: ['terminated'], taskId: 't-2' });
    expect(decodeException({ exc_type: 'TaskRevokedError', exc_message: [], exc_module: 'celery.exceptions' }, 't', null).excMessage).toEqual(['revoked']);
    const chord = decodeException({ exc_type: 'ChordError', exc_message: ['Dependency x raised'], exc_module: 'celery.exceptions' }, 't-3', 'tb');
    expect(chord).toBeInstanceOf(ChordError);
    expect(chord).toMatchObject({ excMessage: ['Dependency x raised'], taskId: 't-3', traceback: 'tb' });
    expect(decodeException({ exc_type: 'ChordError', exc_message: [], exc_module: 'celery.exceptions' }, 't', null).excMessage).toEqual(['chord failed']);
    for (const type of ['TaskRevokedError', 'ChordError']) {
      const foreign = decodeException({ exc_type: type, exc_message: ['m'], exc_module: 'myapp' }, 't', null);
      expect(foreign).not.toBeInstanceOf(TaskRevokedError);
      expect(foreign).not.toBeInstanceOf(ChordError);
      expect(foreign).toMatchObject({ excType: type, excModule: 'myapp' });
    }
    expect(decodeException({ exc_type: 'Retry', exc_message: ['m'], exc_module: 'celery.exceptions' }, 't', null)).not.toBeInstanceOf(ChordError);
  });

  it('keeps a stored value that is no exception dict as the message', () => {
    expect(decodeException('pickled bytes', 't-4', null)).toMatchObject({
      excType: 'Exception',
      excMessage: ['pickled bytes'],
      excModule: null,
      taskId: 't-4',
    });
    expect(decodeException(undefined, 't', null).excMessage).toEqual([null]);
    expect(decodeException({ exc_type: 3 }, 't', null).excMessage).toEqual([{ exc_type: 3 }]);
  });

  it('isExceptionInfo: anything with a string exc_type', () => {
    expect([{ exc_type: 'X' }, { exc_type: 1 }, null, 'exc_type', []].map(isExceptionInfo)).toEqual([true, false, false, false, false]);
  });

  it('unencodable: kombu EncodeError with the cause', () => {
    const cause = new TypeError('circular');
    const error = unencodable(cause);
    expect(error).toMatchObject({ excType: 'EncodeError', excMessage: ["the task's outcome cannot be stored: circular"], excModule: 'kombu.exceptions' });
    expect(error.cause).toBe(cause);
  });
});
