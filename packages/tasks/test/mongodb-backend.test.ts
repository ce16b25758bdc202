/**
 * What the MongoDB result backend writes, read with the driver: Celery's `celery_taskmeta`
 * documents (celery/backends/mongodb.py), on MONGODB_URI when set, else the embedded CongoDB.
 * The backend contract (get, failures, SUCCESS kept, forget, close) is in backends.test.ts; Python
 * reading and writing these documents is in interop-results-mongodb.test.ts; groups and chords on
 * it under a nori worker (chord_unlock polls these documents) in canvas.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { Binary, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, silentLogger } from '@nori/core';
import '@nori/msgpack';
import { createBackend, type ResultBackend } from '@nori/tasks/backends';
import { TaskError } from '@nori/tasks';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';

/** A `celery_taskmeta` document as Celery's MongoBackend writes it. */
interface TaskmetaDoc {
  _id: string;
  status: string;
  result: unknown;
  traceback: string | null;
  children: unknown[];
  date_done: Date | null;
}

/** The test server's URL with `database` as its path (none: the URL names no database) and `query` added. */
function withDatabase(database: string | null, query: Record<string, string> = {}): string {
  const url = new URL(mongoUrl);
  url.pathname = database === null ? '/' : `/${database}`;
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

describe('MongoDB result backend: documents in Celery layout', () => {
  const connection = new Connection('memory://');
  const database = `nori_results_${randomUUID().slice(0, 8)}`;
  let client: MongoClient;
  const backends: ResultBackend[] = [];
  const open = (url: string, resultSerializer?: string): ResultBackend => {
    const backend = createBackend(url, { connection, oid: randomUUID(), resultExpires: 60_000, logger: silentLogger, resultSerializer });
    backends.push(backend);
    return backend;
  };
  const taskmeta = (db = database, collection = 'celery_taskmeta') => client.db(db).collection<TaskmetaDoc>(collection);

  beforeAll(async () => {
    await startServer();
    client = new MongoClient(mongoUrl);
  });
  afterAll(async () => {
    for (const backend of backends) await backend.close();
    await client?.db(database).dropDatabase();
    await client?.close();
    await connection.close();
    await stopServer();
  });

  it('a SUCCESS is one document keyed by the task id: status, result as JSON text, traceback, children, date_done', async () => {
    const backend = open(withDatabase(database));
    const id = randomUUID();
    const before = Date.now();
    await backend.storeResult(id, 'SUCCESS', { sum: 5, list: [1, 'a'] });
    const doc = await taskmeta().findOne({ _id: id });
    expect(Object.keys(doc ?? {}).sort()).toEqual(['_id', 'children', 'date_done', 'result', 'status', 'traceback']);
    expect(doc).toMatchObject({ _id: id, status: 'SUCCESS', traceback: null, children: [] });
    expect(JSON.parse(doc?.result as string)).toEqual({ sum: 5, list: [1, 'a'] });
    const done = (doc?.date_done as Date).getTime();
    expect(done).toBeGreaterThanOrEqual(before - 1000);
    expect(done).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await taskmeta().countDocuments({ _id: id })).toBe(1);
  });

  it("a FAILURE stores Celery's exception dict (exc_type, exc_message, exc_module: 'nori' for a JS-only class) and the traceback", async () => {
    const backend = open(withDatabase(database));
    const id = randomUUID();
    await backend.storeResult(id, 'FAILURE', new RangeError('too far'), { traceback: 'RangeError: too far\n    at run (task.js:1:1)' });
    const doc = await taskmeta().findOne({ _id: id });
    expect(doc).toMatchObject({ status: 'FAILURE', traceback: 'RangeError: too far\n    at run (task.js:1:1)' });
    expect(JSON.parse(doc?.result as string)).toEqual({ exc_type: 'RangeError', exc_message: ['too far'], exc_module: 'nori' });
    const read = await backend.getResult(id);
    expect(read.result).toBeInstanceOf(TaskError);
    expect(read.result).toMatchObject({ excType: 'RangeError', excMessage: ['too far'], taskId: id });
  });

  it('a STARTED has a null date_done; the SUCCESS after it replaces the document', async () => {
    const backend = open(withDatabase(database));
    const id = randomUUID();
    await backend.storeResult(id, 'STARTED', null);
    expect(await taskmeta().findOne({ _id: id })).toMatchObject({ status: 'STARTED', date_done: null });
    await backend.storeResult(id, 'SUCCESS', 7);
    expect(await taskmeta().findOne({ _id: id })).toMatchObject({ status: 'SUCCESS', result: '7' });
    expect(await taskmeta().countDocuments({ _id: id })).toBe(1);
  });

  it("date_done is a BSON date, so Celery's backend_cleanup query (date_done $lt now - result_expires) removes expired results", async () => {
    const backend = open(withDatabase(database));
    const [done, running] = [randomUUID(), randomUUID()];
    await backend.storeResult(done, 'SUCCESS', 1);
    await backend.storeResult(running, 'STARTED', null);
    expect((await taskmeta().findOne({ _id: done }))?.date_done).toBeInstanceOf(Date);
    // celery/backends/mongodb.py cleanup(), with the clock moved past the expiry.
    await taskmeta().deleteMany({ _id: { $in: [done, running] }, date_done: { $lt: new Date(Date.now() + 60_000) } });
    expect(await taskmeta().countDocuments({ _id: done })).toBe(0);
    expect(await taskmeta().countDocuments({ _id: running })).toBe(1);
  });

  it('forget() deletes the document, and only it', async () => {
    const backend = open(withDatabase(database));
    const [kept, id] = [randomUUID(), randomUUID()];
    await backend.storeResult(kept, 'SUCCESS', 'kept');
    await backend.storeResult(id, 'SUCCESS', 'x');
    expect(await taskmeta().countDocuments({ _id: id })).toBe(1);
    await backend.forget(id);
    expect(await taskmeta().countDocuments({ _id: id })).toBe(0);
    expect(await taskmeta().countDocuments({ _id: kept })).toBe(1);
  });

  it('a store the server refuses rejects', async () => {
    const backend = open(withDatabase(database));
    await expect(backend.storeResult(randomUUID(), 'SUCCESS', 'x'.repeat(17 * 1024 * 1024))).rejects.toThrow();
  });

  it('close() before any use resolves', async () => {
    await expect(open(withDatabase(database)).close()).resolves.toBeUndefined();
  });

  it('a binary result serializer (msgpack) stores BSON Binary, as Celery does for msgpack and pickle, and reads it back', async () => {
    const backend = open(withDatabase(database), 'msgpack');
    const id = randomUUID();
    await backend.storeResult(id, 'SUCCESS', { n: 1, bytes: 'é' });
    const doc = await taskmeta().findOne({ _id: id });
    expect(doc?.result).toBeInstanceOf(Binary);
    expect((await backend.getResult(id)).result).toEqual({ n: 1, bytes: 'é' });
  });

  it("a URL without a database uses Celery's default database 'celery'", async () => {
    const backend = open(withDatabase(null));
    const id = randomUUID();
    await backend.storeResult(id, 'SUCCESS', 1);
    try {
      expect(await taskmeta('celery').countDocuments({ _id: id })).toBe(1);
      expect((await backend.getResult(id)).result).toBe(1);
    } finally {
      await backend.forget(id);
    }
  });

  it('taskmeta_collection in the URL names the collection, and is not passed to the driver (which refuses unknown options)', async () => {
    const collection = `taskmeta_${randomUUID().slice(0, 8)}`;
    const backend = open(withDatabase(database, { taskmeta_collection: collection }));
    const id = randomUUID();
    await backend.storeResult(id, 'SUCCESS', 'named');
    expect(await taskmeta(database, collection).findOne({ _id: id })).toMatchObject({ status: 'SUCCESS', result: '"named"' });
    expect(await taskmeta().countDocuments({ _id: id })).toBe(0);
    expect((await backend.getResult(id)).result).toBe('named');
  });
});
