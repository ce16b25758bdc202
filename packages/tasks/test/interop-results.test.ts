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
import { AsyncResult } from '@nori/tasks';
import { createBackend, type ResultBackend } from '@nori/tasks/backends';
import { startCeleryWorker, type CeleryEnv, type CeleryWorker } from './python/celery.js';
import { expectNoriResultsReadByPython, expectPythonFailureReadByNori, expectPythonWorkerResultsReadByNori } from './python/result-interop.js';
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

  it('a Python worker stores, nori reads: values, kwargs, retries, and a typed failure with its traceback', () =>
    expectPythonWorkerResultsReadByNori(env, backend, get));

  it("Celery's own backend code writes a failure, nori reads the same fields", () => expectPythonFailureReadByNori(env, get));

  it("nori stores with Celery's layout; Python's AsyncResult.get(), already waiting, wakes on the PUBLISH", async () => {
    // Give Python time to subscribe first: it only learns of these results from the PUBLISH.
    const { ids: stored } = await expectNoriResultsReadByPython(env, backend, 2500);
    ids.push(...stored);
    const [ok, failed] = stored;

    const raw = JSON.parse((await redis.get(`celery-task-meta-${ok}`)) as string) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['children', 'date_done', 'result', 'status', 'task_id', 'traceback']);
    expect(raw).toMatchObject({ status: 'SUCCESS', result: { sum: 5, list: [1, 'a'] }, traceback: null, children: [], task_id: ok });
    expect(await redis.ttl(`celery-task-meta-${ok}`)).toBeGreaterThan(590);
    const failure = JSON.parse((await redis.get(`celery-task-meta-${failed}`)) as string) as Record<string, unknown>;
    expect(failure['result']).toEqual({ exc_type: 'TypeError', exc_message: ['cannot read x of undefined'], exc_module: 'builtins' });
  });
});
