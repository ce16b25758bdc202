/**
 * Canvas on the rpc:// backend (#22.8): every result goes to the reply queue of the App that
 * started the canvas, so a chain's later steps, a group, a chord's body and a link callback must
 * keep that caller's reply_to (as Celery's Signature.freeze stamps it) — not take the reply queue
 * of the worker that sends them. The caller here is an App of its own (another oid than the
 * worker's); across languages on RabbitMQ, a chain nori ↔ Python returns started from each side.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { App, chain, chord, group, signature, type Worker } from '@nori/tasks';
import { TestNames } from '@nori/testing';
import { AMQP_TRANSPORT_OPTIONS } from '@nori/testing/brokers';
import { AMQP, REDIS } from './brokers.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';
import { pythonChain, startCeleryWorker, type CeleryWorker } from './python/celery.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A worker App serving the canvas tasks on `queue`, and a caller App of its own; both on rpc://. */
async function apps(broker: string, queue: string): Promise<{ caller: App; server: App; worker: Worker }> {
  const shared = { broker, backend: 'rpc://', defaultQueue: queue, connection: { transportOptions: AMQP_TRANSPORT_OPTIONS }, ...CELERY_NAMES };
  const server = new App(shared);
  const caller = new App(shared);
  for (const app of [server, caller]) {
    app.task('rc.add', (x: number, y: number) => x + y);
    app.task('rc.mul', (x: number, y: number) => x * y);
    app.task('rc.sum', (values: number[]) => values.reduce((a, b) => a + b, 0));
  }
  const worker = server.worker({ concurrency: 4 });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop();
    for (const app of [caller, server]) await app.connection.deleteQueue(app.oid).catch(() => undefined);
    await caller.connection.deleteQueue(queue).catch(() => undefined);
    await caller.connection.deleteExchange(queue).catch(() => undefined);
    await deleteCeleryNames(caller.connection);
    await caller.close();
    await server.close();
  });
  return { caller, server, worker };
}

for (const b of [
  { name: 'RabbitMQ', broker: AMQP },
  { name: 'Redis', broker: REDIS },
]) {
  describe(`canvas on rpc:// (${b.name}), called from another App than the worker's`, () => {
    it('a chain, a group, a chord and a link callback return to the caller', async () => {
      const queue = `rpc-canvas-${randomUUID().slice(0, 8)}`;
      const { caller } = await apps(b.broker, queue);
      const add = (args: number[]) => signature('rc.add', args);
      const mul = (args: number[]) => signature('rc.mul', args);
      const c = await chain(add([2, 3]), mul([4]), add([1])).applyAsync<number>(caller);
      const g = await group(add([1, 1]), mul([3, 3])).applyAsync<number>(caller);
      const ch = await chord([add([1, 2]), add([3, 4])], signature('rc.sum')).applyAsync<number>(caller);
      const linkId = randomUUID();
      await caller.sendTask('rc.add', [5, 5], {}, { link: { ...mul([3]), options: { task_id: linkId } } });
      expect(await c.get({ timeout: 15_000 })).toBe(21);
      expect(await g.get({ timeout: 15_000 })).toEqual([2, 9]);
      expect(await ch.get({ timeout: 15_000 })).toBe(10);
      expect(await caller.result<number>(linkId).get({ timeout: 15_000 })).toBe(30);
    }, 60_000);
  });
}

describe('a chain across nori and Python Celery 5.2 on RabbitMQ with rpc://', () => {
  const names = new TestNames('rpc-chain');
  const pyQueue = names.name('py');
  const noriQueue = names.name('nori');
  let python: CeleryWorker | undefined;

  afterAll(async () => {
    await python?.stop();
    const conn = new Connection(AMQP);
    await names.deleteAll(conn);
    await conn.close();
  });

  it('returns, started from nori and started from Python', async () => {
    const { caller } = await apps(AMQP, noriQueue);
    python = await startCeleryWorker({ broker: AMQP, backend: 'rpc://', queue: pyQueue });
    const inPython = (task: string, args: unknown[]) => signature(task, args, {}, { queue: pyQueue });
    // From nori: (2 + 3) in nori → × 10 in Python → + 1 in nori.
    const inNori = (args: number[]) => signature('rc.add', args, {}, { queue: noriQueue });
    const fromNori = await chain(inNori([2, 3]), inPython('interop.mul', [10]), inNori([1])).applyAsync<number>(caller);
    expect(await fromNori.get({ timeout: 30_000 })).toBe(51);
    // From Python: (1 + 2) in Python → + 4 in nori → × 2 in Python.
    const fromPython = await pythonChain({ broker: AMQP, backend: 'rpc://', queue: pyQueue }, [
      { name: 'interop.add', args: [1, 2] },
      { name: 'rc.add', args: [4], options: { queue: noriQueue } },
      { name: 'interop.mul', args: [2], options: { queue: pyQueue } },
    ]);
    expect(fromPython).toMatchObject({ state: 'SUCCESS', value: 14 });
  }, 120_000);
});
