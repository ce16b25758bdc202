/**
 * The result-backend contract, run against every backend on its real store: memory, Redis,
 * rpc:// over RabbitMQ and over Redis, and MongoDB (MONGODB_URI when set, else the embedded
 * CongoDB the @nori/mongodb tests start). What each backend writes is checked against Celery's
 * layout in the backend's own tests and in interop-results*.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, ConnectionClosedError, silentLogger, TimeoutError } from '@nori/core';
import '@nori/amqp';
import '@nori/redis';
import { AsyncResult, BackendNotInstalledError, TaskError, UnknownBackendError, type TaskState } from '@nori/tasks';
import { createBackend, type BackendHost, type ResultBackend } from '@nori/tasks/backends';
import { importOptional } from '../src/optional-package.js';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';

interface Case {
  name: string;
  backend: string;
  broker: string;
  /** Whether a stored SUCCESS survives later writes (not on rpc://, whose results are messages). */
  keepsSuccess: boolean;
  /** Starts and stops the store when the test process owns it (the embedded MongoDB). */
  server?: { start(): Promise<void>; stop(): Promise<void> };
}

const cases: Case[] = [
  { name: 'memory', backend: 'memory://', broker: 'memory://', keepsSuccess: true },
  { name: 'redis', backend: redisUrl(1), broker: 'memory://', keepsSuccess: true },
  { name: 'rpc over amqp', backend: 'rpc://', broker: AMQP_URL, keepsSuccess: false },
  { name: 'rpc over redis', backend: 'rpc://', broker: redisUrl(), keepsSuccess: false },
  { name: 'mongodb', backend: mongoUrl, broker: 'memory://', keepsSuccess: true, server: { start: startServer, stop: stopServer } },
];

for (const c of cases) {
  describe(`result backend: ${c.name}`, () => {
    let connection: Connection;
    let host: BackendHost;
    let backend: ResultBackend;
    const ids: string[] = [];
    /** Reply queues of the rpc:// backends (the oids), deleted at the end. */
    const oids: string[] = [];
    const newOid = (): string => {
      const oid = `results-test-${randomUUID()}`;
      oids.push(oid);
      return oid;
    };
    const newId = (): string => {
      const id = randomUUID();
      ids.push(id);
      return id;
    };
    const store = (id: string, state: TaskState, result: unknown, traceback: string | null = null): Promise<void> =>
      backend.storeResult(id, state, result, { traceback, origin: { replyTo: host.oid, correlationId: id, taskName: 'test.task' } });

    beforeAll(async () => {
      await c.server?.start();
      connection = new Connection(c.broker);
      host = { connection, oid: newOid(), resultExpires: 60_000, logger: silentLogger };
      backend = createBackend(c.backend, host);
      await backend.onTaskCall?.(randomUUID());
    });
    afterAll(async () => {
      for (const id of ids) await backend.forget(id);
      await backend.close();
      for (const oid of oids) await connection.deleteQueue(oid).catch(() => undefined);
      await connection.close();
      await c.server?.stop();
    });

    it('an unknown id is PENDING with a null result', async () => {
      const r = new AsyncResult(newId(), backend);
      expect(await r.ready()).toBe(false);
      expect(r.state).toBe('PENDING');
      expect(r.result).toBeNull();
      expect(r.dateDone).toBeNull();
    });

    it('get() waits for a result stored later, and every accessor then agrees', async () => {
      const id = newId();
      const r = new AsyncResult<{ sum: number; list: string[] }>(id, backend);
      const waiting = r.get({ timeout: 10_000 });
      await store(id, 'STARTED', null);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const before = Date.now();
      await store(id, 'SUCCESS', { sum: 5, list: ['a', 'b'] });
      expect(await waiting).toEqual({ sum: 5, list: ['a', 'b'] });
      expect(r.state).toBe('SUCCESS');
      expect(await r.successful()).toBe(true);
      expect(await r.failed()).toBe(false);
      expect(r.traceback).toBeNull();
      expect(r.date_done).toBeInstanceOf(Date);
      expect(Math.abs((r.dateDone as Date).getTime() - before)).toBeLessThan(10_000);
      // A second handle reads the same from the backend.
      expect(await new AsyncResult(id, backend).get({ timeout: 5000 })).toEqual({ sum: 5, list: ['a', 'b'] });
    });

    it('a failure rejects get() with a TaskError carrying Celery exception fields; propagate: false resolves with it', async () => {
      const id = newId();
      await store(id, 'FAILURE', new TypeError('x is not a function'), 'TypeError: x is not a function\n    at task (app.js:1:1)');
      const r = new AsyncResult(id, backend);
      const error = await r.get({ timeout: 5000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskError);
      expect(error).toMatchObject({
        code: 'ERR_NORI_TASK_FAILED',
        excType: 'TypeError',
        excMessage: ['x is not a function'],
        excModule: 'builtins',
        taskId: id,
        message: 'TypeError: x is not a function',
      });
      expect((error as TaskError).traceback).toContain('at task (app.js:1:1)');
      expect(await r.failed()).toBe(true);
      expect(r.traceback).toContain('TypeError');
      const kept = await new AsyncResult(id, backend).get({ timeout: 5000, propagate: false });
      expect(kept).toBeInstanceOf(TaskError);
    });

    it('a custom state (updateState) reads back as state and info; states() yields each until the ready one', async () => {
      const id = newId();
      await store(id, 'PROGRESS', { current: 1, total: 3 });
      const r = new AsyncResult(id, backend);
      await expect.poll(async () => (await r.refresh()).state, { timeout: 10_000 }).toBe('PROGRESS');
      expect(r.info).toEqual({ current: 1, total: 3 });
      expect(r.result).toEqual({ current: 1, total: 3 });
      expect(r.dateDone).toBeNull();
      expect(await r.ready()).toBe(false);
      const states = r.states({ timeout: 10_000 });
      expect((await states.next()).value).toMatchObject({ state: 'PROGRESS', result: { current: 1, total: 3 } });
      await store(id, 'PROGRESS', { current: 2, total: 3 });
      expect((await states.next()).value).toMatchObject({ state: 'PROGRESS', result: { current: 2, total: 3 } });
      expect(r.info).toEqual({ current: 2, total: 3 });
      await store(id, 'SUCCESS', 'done');
      expect((await states.next()).value).toMatchObject({ state: 'SUCCESS', result: 'done' });
      expect(await states.next()).toEqual({ done: true, value: undefined });
      expect([r.state, r.info]).toEqual(['SUCCESS', 'done']);
    });

    it('states() ends on timeout like get(); a loop may break out of it', async () => {
      const id = newId();
      const r = new AsyncResult(id, backend);
      const seen: string[] = [];
      const timedOut = await (async () => {
        for await (const s of r.states({ timeout: 300 })) seen.push(s.state);
      })().catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(TimeoutError);
      expect(seen).toEqual(['PENDING']);
      await store(id, 'PROGRESS', 1);
      for await (const s of r.states({ timeout: 10_000 })) if (s.state === 'PROGRESS') break;
      expect(r.state).toBe('PROGRESS');
    });

    it.skipIf(!c.keepsSuccess)('a stored SUCCESS is never overwritten (a duplicate run cannot replace it)', async () => {
      const id = newId();
      await store(id, 'SUCCESS', 1);
      await store(id, 'FAILURE', new Error('late duplicate'));
      await store(id, 'SUCCESS', 2);
      const r = await backend.getResult(id);
      expect(r.state).toBe('SUCCESS');
      expect(r.result).toBe(1);
    });

    it.skipIf(!c.keepsSuccess)(
      'writes issued in one tick keep their order: a STARTED then SUCCESS stays SUCCESS, a later FAILURE does not replace it',
      async () => {
        const [a, b] = [newId(), newId()];
        await Promise.all([
          store(a, 'STARTED', null),
          store(b, 'SUCCESS', 'b'),
          store(a, 'SUCCESS', 'a'),
          store(b, 'FAILURE', new Error('late duplicate')),
          store(a, 'FAILURE', new Error('late')),
        ]);
        expect(await backend.getResult(a)).toMatchObject({ state: 'SUCCESS', result: 'a' });
        expect(await backend.getResult(b)).toMatchObject({ state: 'SUCCESS', result: 'b' });
      },
    );

    it('get() rejects with TimeoutError after its timeout, and with the reason when aborted', async () => {
      const r = new AsyncResult(newId(), backend);
      await expect(r.get({ timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
      const abort = new AbortController();
      const waiting = r.get({ signal: abort.signal });
      abort.abort(new Error('caller gave up'));
      await expect(waiting).rejects.toThrow('caller gave up');
    });

    it('forget() drops the result', async () => {
      const id = newId();
      await store(id, 'SUCCESS', 'x');
      const r = new AsyncResult(id, backend);
      expect(await r.get({ timeout: 5000 })).toBe('x');
      await r.forget();
      expect(r.state).toBe('PENDING');
      expect((await backend.getResult(id)).state).toBe('PENDING');
    });

    it('close() rejects a pending get() with ConnectionClosedError instead of leaving it hanging', async () => {
      const own = createBackend(c.backend, { ...host, oid: newOid() });
      // The expectation is attached before close(): rpc:// rejects the wait while close() is still
      // stopping its consumer, and a rejection with no handler yet is an unhandled one.
      const waiting = expect(new AsyncResult(randomUUID(), own).get()).rejects.toBeInstanceOf(ConnectionClosedError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await own.close();
      await waiting;
      await expect(own.waitFor(randomUUID())).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('many waiters on many ids each get their own result', async () => {
      const batch = Array.from({ length: 200 }, () => newId());
      const waits = batch.map((id) => new AsyncResult<number>(id, backend).get({ timeout: 20_000 }));
      await Promise.all(batch.map((id, i) => store(id, 'SUCCESS', i)));
      expect(await Promise.all(waits)).toEqual(batch.map((_, i) => i));
    });
  });
}

describe('result expiry (resultExpires)', () => {
  for (const url of ['memory://', redisUrl(1)]) {
    it(`${url}: a result is gone after resultExpires`, async () => {
      const connection = new Connection('memory://');
      const backend = createBackend(url, { connection, oid: randomUUID(), resultExpires: 300, logger: silentLogger });
      const id = randomUUID();
      try {
        await backend.storeResult(id, 'SUCCESS', 42);
        expect((await backend.getResult(id)).result).toBe(42);
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect((await backend.getResult(id)).state).toBe('PENDING');
      } finally {
        await backend.forget(id);
        await backend.close();
        await connection.close();
      }
    });
  }
});

describe('choosing a backend by URL', () => {
  const host = (): BackendHost => ({ connection: new Connection('memory://'), oid: randomUUID(), resultExpires: 1000, logger: silentLogger });

  it('an unknown scheme names the known ones', () => {
    expect(() => createBackend('cassandra://db/results', host())).toThrow(UnknownBackendError);
    expect(() => createBackend('cassandra://db/results', host())).toThrow(/known: memory:\/\/, rpc:\/\/, redis:\/\//);
  });

  it('a backend package that is not installed is an error naming the npm install', async () => {
    const missing = importOptional('redis', '@nori/not-installed', () => import(/* @vite-ignore */ ['@nori', 'not-installed'].join('/')));
    await expect(missing).rejects.toBeInstanceOf(BackendNotInstalledError);
    await expect(missing).rejects.toThrow('the redis:// result backend needs @nori/not-installed: run `npm install @nori/not-installed`');
  });
});
