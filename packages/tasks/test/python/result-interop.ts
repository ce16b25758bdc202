/**
 * The result-interop cases every backend runs with Python Celery 5.2: a Python worker's results and
 * Celery's own backend code's failure read by nori, and nori's results read by Python's `AsyncResult.get()`.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { AsyncResult, TaskError, TaskRevokedError, WorkerLostError } from '@nori/tasks';
import { type ResultBackend } from '@nori/tasks/backends';
import { pythonGet, pythonSend, pythonStore, type CeleryEnv, type PythonResult } from './celery.js';

/**
 * A Python `celery worker` runs what Python sent and stores it; `get` (nori's AsyncResult on the
 * same backend) reads values, kwargs, a retried result and a typed failure with its traceback.
 */
export async function expectPythonWorkerResultsReadByNori(env: CeleryEnv, backend: ResultBackend, get: <R>(id: string) => Promise<R>): Promise<void> {
  const [add, echo, retrying, fail] = (await pythonSend(env, [
    { name: 'interop.add', args: [2, 3] },
    { name: 'interop.echo', args: [1, 'two'], kwargs: { three: [3], four: { n: 4 } } },
    { name: 'interop.retrying', args: [2] },
    { name: 'interop.fail', args: ['boom from python'] },
  ])) as [string, string, string, string];
  expect(await get<number>(add)).toBe(5);
  expect(await get(echo)).toEqual({ args: [1, 'two'], kwargs: { three: [3], four: { n: 4 } } });
  expect(await get(retrying)).toEqual({ retries: 2 });
  const error = await get(fail).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskError);
  expect(error).toMatchObject({ excType: 'InteropError', excModule: 'interop_app', excMessage: ['boom from python'], taskId: fail });
  expect((error as TaskError).traceback).toContain('raise InteropError(message)');
  const r = new AsyncResult(add, backend);
  await r.refresh();
  // Celery 5.2 writes a naive UTC date_done; it must read back as UTC, not local time.
  expect(Math.abs((r.dateDone as Date).getTime() - Date.now())).toBeLessThan(120_000);
}

/** Celery's `store_result` writes a FAILURE; `get` (nori's AsyncResult on the same backend) rejects with its fields. */
export async function expectPythonFailureReadByNori(env: CeleryEnv, get: (id: string) => Promise<unknown>): Promise<void> {
  const id = randomUUID();
  await pythonStore(env, { id, state: 'FAILURE', exception: { message: 'stored by python' }, traceback: 'Traceback (most recent call last): ...' });
  const error = await get(id).catch((e: unknown) => e);
  expect(error).toMatchObject({
    excType: 'InteropError',
    excModule: 'interop_app',
    excMessage: ['stored by python'],
    traceback: 'Traceback (most recent call last): ...',
  });
}

/**
 * Python starts waiting on four ids, then nori's backend stores a SUCCESS, a FAILURE, a REVOKED and
 * the FAILURE of a task whose lease lapsed past `maxLapses` (billiard's WorkerLostError) under
 * them; Python must read each with Celery's exception fields. `subscribeMs` gives
 * Python time to start waiting first. Returns the ids and what Python read, for backend checks.
 */
export async function expectNoriResultsReadByPython(
  env: CeleryEnv,
  backend: ResultBackend,
  subscribeMs: number,
): Promise<{ ids: [string, string, string, string]; read: PythonResult[] }> {
  const ids: [string, string, string, string] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const [ok, failed, revoked, lapsed] = ids;
  const reading = pythonGet(env, ids, 30);
  await new Promise((resolve) => setTimeout(resolve, subscribeMs));
  await backend.storeResult(ok, 'SUCCESS', { sum: 5, list: [1, 'a'] }, { origin: { taskName: 'interop.add' } });
  await backend.storeResult(failed, 'FAILURE', new TypeError('cannot read x of undefined'), {
    traceback: 'TypeError: cannot read x\n    at run (task.js:3:7)',
  });
  await backend.storeResult(revoked, 'REVOKED', new TaskRevokedError('expired'));
  const why = "its lease lapsed 6 times, more than the worker's maxLapses (5): not run again, rejected";
  await backend.storeResult(lapsed, 'FAILURE', new WorkerLostError(why));
  const read = await reading;
  const [a, b, c, d] = read;
  expect(a).toMatchObject({ id: ok, state: 'SUCCESS', value: { sum: 5, list: [1, 'a'] } });
  expect(b).toMatchObject({ id: failed, state: 'FAILURE', exc_type: 'TypeError', exc_module: 'builtins', exc_args: ['cannot read x of undefined'] });
  expect(b?.traceback).toContain('at run (task.js:3:7)');
  expect(c).toMatchObject({ id: revoked, state: 'REVOKED', exc_type: 'TaskRevokedError', exc_module: 'celery.exceptions', exc_args: ['expired'] });
  expect(d).toMatchObject({ id: lapsed, state: 'FAILURE', exc_type: 'WorkerLostError', exc_module: 'billiard.exceptions', exc_args: [why] });
  return { ids, read };
}
