/**
 * Celery's task meta document on its own: what a state is stored as (a failure's exception dict,
 * `date_done` only once ready, Celery 5.3's offset form) and what a stored document from either
 * language is read back as (5.2's naive UTC dates, offsets with and without a colon, a document
 * that is none refused).
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '@nori/core';
import { TaskError } from '@nori/tasks';
import { fromTaskMeta, toTaskMeta } from '@nori/tasks/protocol';
import { formatDateDone, isReady, parseDateDone, pendingResult } from '../src/protocol/task-meta.js';

const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);

describe('date_done', () => {
  it('is written in UTC with an explicit offset, each millisecond its own', () => {
    expect(formatDateDone(at)).toBe('2030-01-02T03:04:05.678+00:00');
    expect(formatDateDone(at)).toBe('2030-01-02T03:04:05.678+00:00');
    expect(formatDateDone(at + 1)).toBe('2030-01-02T03:04:05.679+00:00');
  });

  it('is read with any offset, and as UTC without one (Celery 5.2)', () => {
    expect(parseDateDone('2030-01-02T03:04:05.678000')?.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    expect(parseDateDone('2030-01-02T03:04:05.678+00:00')?.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    expect(parseDateDone('2030-01-01T00:00:00+05:30')?.toISOString()).toBe('2029-12-31T18:30:00.000Z');
    expect(parseDateDone('2030-01-01T00:00:00+0530')?.toISOString()).toBe('2029-12-31T18:30:00.000Z');
    expect(parseDateDone('2030-01-01T00:00:00-05:00')?.toISOString()).toBe('2030-01-01T05:00:00.000Z');
    expect(parseDateDone('2030-01-01T00:00:00Z')?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(parseDateDone('2030-01-01T00:00:00z')?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    const date = new Date(at);
    expect(parseDateDone(date)).toBe(date);
    expect(parseDateDone('')).toBeNull();
    expect(parseDateDone('yesterday')).toBeNull();
    expect(parseDateDone(at)).toBeNull();
    expect(parseDateDone(null)).toBeNull();
    expect(parseDateDone(['2030-01-01T00:00:00'])).toBeNull();
  });
});

describe('toTaskMeta', () => {
  it('stores a success as it is, with date_done, and the defaults Celery writes', () => {
    expect(toTaskMeta('t-1', 'SUCCESS', 0, null, [], at)).toEqual({
      status: 'SUCCESS',
      result: 0,
      traceback: null,
      children: [],
      date_done: '2030-01-02T03:04:05.678+00:00',
      task_id: 't-1',
    });
    expect(toTaskMeta('t-1', 'SUCCESS', undefined, 'tb', [['c', null]], at)).toMatchObject({ result: null, traceback: 'tb', children: [['c', null]] });
    const before = Date.now();
    const meta = toTaskMeta('t-1', 'SUCCESS', false);
    expect(meta).toMatchObject({ result: false, traceback: null, children: [] });
    const done = Date.parse(meta.date_done as string);
    expect(done).toBeGreaterThanOrEqual(before);
    expect(done).toBeLessThanOrEqual(Date.now());
  });

  it('has no date_done until the state is ready', () => {
    expect(toTaskMeta('t', 'STARTED', { pid: 1 }, null, [], at)).toMatchObject({ result: { pid: 1 }, date_done: null });
    expect(toTaskMeta('t', 'RETRY', new Error('again'), null, [], at).date_done).toBeNull();
    expect(toTaskMeta('t', 'FAILURE', new Error('x'), null, [], at).date_done).toBe('2030-01-02T03:04:05.678+00:00');
    expect(toTaskMeta('t', 'REVOKED', null, null, [], at).date_done).toBe('2030-01-02T03:04:05.678+00:00');
  });

  it('stores the result of FAILURE, RETRY and REVOKED as an exception dict, unless it is one', () => {
    const boom = { exc_type: 'Error', exc_message: ['boom'], exc_module: 'nori' };
    expect(toTaskMeta('t', 'FAILURE', 'boom', null, [], at).result).toEqual(boom);
    expect(toTaskMeta('t', 'RETRY', new TypeError('bad'), null, [], at).result).toEqual({
      exc_type: 'TypeError',
      exc_message: ['bad'],
      exc_module: 'builtins',
    });
    expect(toTaskMeta('t', 'REVOKED', 'terminated', null, [], at).result).toEqual({ exc_type: 'Error', exc_message: ['terminated'], exc_module: 'nori' });
    const stored = { exc_type: 'KeyError', exc_message: ['k'], exc_module: 'builtins' };
    expect(toTaskMeta('t', 'FAILURE', stored, null, [], at).result).toBe(stored);
    expect(toTaskMeta('t', 'SUCCESS', 'boom', null, [], at).result).toBe('boom');
  });
});

describe('fromTaskMeta', () => {
  it('reads a document from either language', () => {
    expect(
      fromTaskMeta(
        { status: 'SUCCESS', result: [1, 2], traceback: null, children: [['c', null]], date_done: '2030-01-02T03:04:05.678000', task_id: 'py-1' },
        'asked',
      ),
    ).toEqual({
      taskId: 'py-1',
      state: 'SUCCESS',
      result: [1, 2],
      traceback: null,
      children: [['c', null]],
      dateDone: new Date(at),
    });
    expect(fromTaskMeta({ status: 'SUCCESS', result: false, traceback: 5, children: 'x', task_id: 7 }, 'asked')).toEqual({
      taskId: 'asked',
      state: 'SUCCESS',
      result: false,
      traceback: null,
      children: [],
      dateDone: null,
    });
    expect(fromTaskMeta({ status: 'STARTED' }, 'asked').result).toBeNull();
  });

  it('reads the result of FAILURE, RETRY and REVOKED as a TaskError of the task, with its traceback', () => {
    for (const status of ['FAILURE', 'RETRY', 'REVOKED']) {
      const read = fromTaskMeta({ status, result: { exc_type: 'KeyError', exc_message: ['k'], exc_module: 'builtins' }, traceback: 'Traceback...' }, 't-9');
      expect(read.result).toBeInstanceOf(TaskError);
      expect(read.result).toMatchObject({ excType: 'KeyError', excMessage: ['k'], excModule: 'builtins', taskId: 't-9', traceback: 'Traceback...' });
    }
    expect(fromTaskMeta({ status: 'PROGRESS', result: { exc_type: 'KeyError' } }, 't').result).toEqual({ exc_type: 'KeyError' });
  });

  it('refuses what is no task meta document', () => {
    for (const doc of [null, 'SUCCESS', { result: 1 }, { status: 1 }]) {
      expect(() => fromTaskMeta(doc, 't-3')).toThrow(new DecodeError('result of task t-3 is not a Celery task meta document (no status)'));
      expect(() => fromTaskMeta(doc, 't-3')).toThrow(DecodeError);
    }
  });

  it('PENDING for an id with nothing stored; ready only once SUCCESS, FAILURE or REVOKED', () => {
    expect(pendingResult('p-1')).toEqual({ taskId: 'p-1', state: 'PENDING', result: null, traceback: null, children: [], dateDone: null });
    expect(['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'].map((state) => isReady({ ...pendingResult('p'), state }))).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});
