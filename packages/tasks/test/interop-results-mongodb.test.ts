/**
 * Results between Python Celery 5.2 (its MongoBackend on Debian's pymongo 3.11) and nori on the
 * MongoDB result backend: MONGODB_URI when set, else the embedded CongoDB this process starts,
 * which Python reaches over TCP. Task messages go over the shared Redis. Both directions: a
 * Python worker stores and nori's `AsyncResult.get()` reads; a nori worker stores and Python's
 * `AsyncResult.get()` reads (Celery's MongoBackend polls, as nori's does).
 */
import { MongoClient } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, silentLogger } from '@nori/core';
import '@nori/redis';
import { App, AsyncResult, currentTask, type Worker } from '@nori/tasks';
import { createBackend, type ResultBackend } from '@nori/tasks/backends';
import { TestNames } from '@nori/testing';
import { redisUrl } from '@nori/testing/brokers';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';
import { pythonCall, pythonSend, startCeleryWorker, type CeleryEnv, type CeleryWorker } from './python/celery.js';
import { expectNoriResultsReadByPython, expectPythonFailureReadByNori, expectPythonWorkerResultsReadByNori } from './python/result-interop.js';

const names = new TestNames('interop-results-mongodb');
const database = names.name('db');

/** CPU seconds a process has used (utime + stime from /proc, in USER_HZ = 100 ticks a second). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The test MongoDB with this file's database; `serverMonitoringMode` is for the Node driver only (pymongo 3.11 does not know it). */
function backendUrl(forPython: boolean): string {
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  if (forPython) url.searchParams.delete('serverMonitoringMode');
  return url.toString();
}

describe('results: Python Celery 5.2 ↔ nori on the MongoDB backend', () => {
  const pyEnv: CeleryEnv = { broker: redisUrl(), backend: backendUrl(true), queue: names.name('py') };
  const noriEnv: CeleryEnv = { ...pyEnv, queue: names.name('nori') };
  const connection = new Connection('memory://');
  let backend: ResultBackend;
  let server: App;
  let noriWorker: Worker;
  let pyWorker: CeleryWorker;
  const get = <R>(id: string): Promise<R> => new AsyncResult<R>(id, backend).get({ timeout: 30_000 });

  beforeAll(async () => {
    await startServer();
    backend = createBackend(backendUrl(false), { connection, oid: randomUUID(), resultExpires: 600_000, logger: silentLogger });
    server = new App({ broker: redisUrl(), backend: backendUrl(false), defaultQueue: noriEnv.queue, ...CELERY_NAMES });
    server.task('interop.add', (x: number, y: number) => x + y);
    server.task('interop.echo', (...args: unknown[]) => ({ args, kwargs: currentTask().kwargs }), { params: ['**kwargs'] });
    server.task('interop.fail', (message: string) => {
      throw new TypeError(message);
    });
    noriWorker = server.worker({ concurrency: 2 });
    await noriWorker.start();
    pyWorker = await startCeleryWorker(pyEnv);
  });
  afterAll(async () => {
    await pyWorker?.stop();
    await noriWorker?.stop();
    await server?.close();
    await backend?.close();
    const broker = new Connection(redisUrl());
    await names.deleteAll(broker);
    await deleteCeleryNames(broker);
    await broker.close();
    await connection.close();
    const client = new MongoClient(mongoUrl);
    await client.db(database).dropDatabase();
    await client.close();
    await stopServer();
  });

  it(
    'a Python worker stores, nori reads: values, kwargs, retries, and a typed failure with its traceback',
    () => expectPythonWorkerResultsReadByNori(pyEnv, backend, get),
    60_000,
  );

  it("Celery's own backend code stores a failure, nori reads exc_type, exc_message, exc_module and the traceback", () =>
    expectPythonFailureReadByNori(pyEnv, get));

  it("Python sends, a nori worker runs and stores, Python's AsyncResult.get() reads values and a failure", async () => {
    const [add, echo, fail] = await pythonCall(noriEnv, [
      { name: 'interop.add', args: [2, 3] },
      { name: 'interop.echo', args: [1, 'two'], kwargs: { three: [3] } },
      { name: 'interop.fail', args: ['boom from python'] },
    ]);
    expect(add).toMatchObject({ state: 'SUCCESS', value: 5 });
    expect(echo).toMatchObject({ state: 'SUCCESS', value: { args: [1, 'two'], kwargs: { three: [3] } } });
    expect(fail).toMatchObject({ state: 'FAILURE', exc_type: 'TypeError', exc_module: 'builtins', exc_args: ['boom from python'] });
    expect(fail?.traceback).toContain('TypeError: boom from python');
  }, 60_000);

  it("nori's backend stores, Python's AsyncResult.get(), already waiting, reads SUCCESS, FAILURE and REVOKED", async () => {
    const {
      read: [a],
    } = await expectNoriResultsReadByPython(pyEnv, backend, 1500);
    // date_done is a BSON date: pymongo gives Python a naive UTC datetime.
    expect(Math.abs(Date.parse(`${(a?.date_done ?? '').replace(' ', 'T').slice(0, 23)}Z`) - Date.now())).toBeLessThan(120_000);
  }, 60_000);

  it("an idle Celery worker's pymongo monitor does not spin: its streaming hello waits on the server (CongoDB answered at once, patched)", async () => {
    // The worker's MongoDB client exists once it has stored a result.
    const [add] = await pythonSend(pyEnv, [{ name: 'interop.add', args: [1, 1] }]);
    expect(await get<number>(add as string)).toBe(2);
    const pid = pyWorker.process.pid as number;
    const before = await cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Idle it uses a few hundredths of a second; answered at once, pymongo re-sent hello ~7,000 times a second.
    expect((await cpuSeconds(pid)) - before).toBeLessThan(0.5);
  });
});
