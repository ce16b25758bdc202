/**
 * Results between Python Celery 5.2 and nori on Redis, through the result backend alone: a real
 * `celery worker` stores what Python sent and nori reads it; nori stores and Python's
 * `AsyncResult.get()` reads it (woken by the PUBLISH, since Celery's Redis backend does not poll).
 * Task messages between the two sides are in interop-tasks.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, silentLogger } from '@nori/core';
import { AsyncResult, createBackend, TaskError, TaskRevokedError, type ResultBackend } from '@nori/tasks';
import { pythonGet, pythonSend, pythonStore, startCeleryWorker, type CeleryEnv, type CeleryWorker } from './python/celery.js';
import { TestNames } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';

const BACKEND = redisUrl(1);
const names = new TestNames('interop-results');
const env: CeleryEnv = { broker: redisUrl(), backend: BACKEND, queue: names.name('queue') };

describe('results: Python Celery 5.2 ↔ nori on the Redis backend', () => {
  const connection = new Connection('memory://');
  const backend: ResultBackend = createBackend(BACKEND, { connection, oid: randomUUID(), resultExpires: 600_000, logger: silentLogger });
  const redis = new Redis(redisUrl(1));
  const ids: string[] = [];
  let worker: CeleryWorker;
  const get = <R>(id: string): Promise<R> => {
    ids.push(id);
    return new AsyncResult<R>(id, backend).get({ timeout: 30_000 });
  };

  beforeAll(async () => {
    worker = await startCeleryWorker(env);
  });
  afterAll(async () => {
    await worker?.stop();
    if (ids.length > 0) await redis.del(...ids.map((id) => `celery-task-meta-${id}`));
    redis.disconnect();
    // The queue and the exchange of its name Celery binds it to, on the broker.
    const broker = new Connection(env.broker);
    await names.deleteAll(broker);
    await broker.close();
    await backend.close();
    await connection.close();
  });

  it('a Python worker stores, nori reads: values, kwargs, retries, and a typed failure with its traceback', async () => {
    const [add, echo, retrying, fail] = await pythonSend(env, [
      { name: 'interop.add', args: [2, 3] },
      { name: 'interop.echo', args: [1, 'two'], kwargs: { three: [3], four: { n: 4 } } },
      { name: 'interop.retrying', args: [2] },
      { name: 'interop.fail', args: ['boom from python'] },
    ]);
    expect(await get<number>(add as string)).toBe(5);
    expect(await get(echo as string)).toEqual({ args: [1, 'two'], kwargs: { three: [3], four: { n: 4 } } });
    expect(await get(retrying as string)).toEqual({ retries: 2 });
    const error = await get(fail as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ excType: 'InteropError', excModule: 'interop_app', excMessage: ['boom from python'], taskId: fail });
    expect((error as TaskError).traceback).toContain('raise InteropError(message)');
    const r = new AsyncResult(add as string, backend);
    await r.refresh();
    // Celery 5.2 writes a naive UTC date_done; it must read back as UTC, not local time.
    expect(Math.abs((r.dateDone as Date).getTime() - Date.now())).toBeLessThan(120_000);
  });

  it("Celery's own backend code writes a failure, nori reads the same fields", async () => {
    const id = randomUUID();
    ids.push(id);
    await pythonStore(env, { id, state: 'FAILURE', exception: { message: 'stored by python' }, traceback: 'Traceback (most recent call last): ...' });
    const error = await new AsyncResult(id, backend).get({ timeout: 5000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      excType: 'InteropError',
      excModule: 'interop_app',
      excMessage: ['stored by python'],
      traceback: 'Traceback (most recent call last): ...',
    });
  });

  it("nori stores with Celery's layout; Python's AsyncResult.get(), already waiting, wakes on the PUBLISH", async () => {
    const [ok, failed, revoked] = [randomUUID(), randomUUID(), randomUUID()];
    ids.push(ok, failed, revoked);
    const reading = pythonGet(env, [ok, failed, revoked], 30);
    // Give Python time to subscribe first: it only learns of these results from the PUBLISH.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await backend.storeResult(ok, 'SUCCESS', { sum: 5, list: [1, 'a'] }, { request: { taskName: 'interop.add' } });
    await backend.storeResult(failed, 'FAILURE', new TypeError('cannot read x of undefined'), {
      traceback: 'TypeError: cannot read x\n    at run (task.js:3:7)',
    });
    await backend.storeResult(revoked, 'REVOKED', new TaskRevokedError('expired'));
    const [a, b, c] = await reading;
    expect(a).toMatchObject({ id: ok, state: 'SUCCESS', value: { sum: 5, list: [1, 'a'] } });
    expect(b).toMatchObject({ id: failed, state: 'FAILURE', exc_type: 'TypeError', exc_module: 'builtins', exc_args: ['cannot read x of undefined'] });
    expect(b?.traceback).toContain('at run (task.js:3:7)');
    expect(c).toMatchObject({ id: revoked, state: 'REVOKED', exc_type: 'TaskRevokedError', exc_module: 'celery.exceptions', exc_args: ['expired'] });

    const raw = JSON.parse((await redis.get(`celery-task-meta-${ok}`)) as string) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['children', 'date_done', 'result', 'status', 'task_id', 'traceback']);
    expect(raw).toMatchObject({ status: 'SUCCESS', result: { sum: 5, list: [1, 'a'] }, traceback: null, children: [], task_id: ok });
    expect(await redis.ttl(`celery-task-meta-${ok}`)).toBeGreaterThan(590);
    const failure = JSON.parse((await redis.get(`celery-task-meta-${failed}`)) as string) as Record<string, unknown>;
    expect(failure['result']).toEqual({ exc_type: 'TypeError', exc_message: ['cannot read x of undefined'], exc_module: 'builtins' });
  });
});
