/**
 * An outcome the result backend cannot encode is stored as a FAILURE the caller sees, as Celery
 * stores kombu's EncodeError (celery/app/trace.py catches it from mark_as_done), on every backend:
 * a circular value, a function, a Symbol, a Map or a Set returned (a Map or Set must not become {}
 * without a word). A circular object thrown and an error whose `message` getter throws are stored
 * as the failures they are. Before, the store failed, the message was acked and `get()` waited for
 * ever (the Map and the Set came back as {}).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App, TaskError } from '@nori/tasks';
import { REDIS } from './brokers.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';
import { redisUrl } from '@nori/testing/brokers';
import { mongoUrl, startServer, stopServer } from '../../mongodb/test/server.js';

const circular = (): object => {
  const o: Record<string, unknown> = { a: 1 };
  o['self'] = o;
  return o;
};

/** What each task does, and what `get({ propagate: false })` must give: the value, or the excType of the stored failure. */
const CASES: Array<{ name: string; run: () => unknown; expect: { value: unknown } | { excType: string } }> = [
  { name: 'a circular value', run: circular, expect: { excType: 'EncodeError' } },
  { name: 'a function', run: () => () => 1, expect: { excType: 'EncodeError' } },
  { name: 'a Symbol', run: () => Symbol('s'), expect: { excType: 'EncodeError' } },
  { name: 'a Map', run: () => new Map([['a', 1]]), expect: { excType: 'EncodeError' } },
  { name: 'a Set', run: () => new Set([1, 2]), expect: { excType: 'EncodeError' } },
  { name: 'an object holding a function', run: () => ({ ok: 1, f: () => 2 }), expect: { excType: 'EncodeError' } },
  {
    name: 'a circular object thrown (its repr is the message)',
    run: () => {
      throw circular();
    },
    expect: { excType: 'Error' },
  },
  {
    name: 'an error whose message getter throws',
    run: () => {
      const error = new RangeError('x');
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('no message for you');
        },
      });
      throw error;
    },
    expect: { excType: 'RangeError' },
  },
  { name: 'a bigint (as a decimal)', run: () => 12345678901234567890n, expect: { value: '12345678901234567890' } },
  { name: 'undefined (as None)', run: () => undefined, expect: { value: null } },
  { name: 'nested plain data', run: () => ({ list: [1, 'a', null], n: 2.5 }), expect: { value: { list: [1, 'a', null], n: 2.5 } } },
  {
    name: 'a string thrown',
    run: () => {
      throw 'plain text';
    },
    expect: { excType: 'Error' },
  },
];

const MONGO_DATABASE = `nori_unencodable_${randomUUID().slice(0, 8)}`;
const SETUPS = [
  { name: 'memory', broker: 'memory://', backend: () => 'memory://' },
  { name: 'redis', broker: REDIS, backend: () => redisUrl(1) },
  { name: 'rpc', broker: REDIS, backend: () => 'rpc://' },
  {
    name: 'mongodb',
    broker: 'memory://',
    backend: () => {
      const url = new URL(mongoUrl);
      url.pathname = `/${MONGO_DATABASE}`;
      return url.toString();
    },
  },
];

beforeAll(startServer);
afterAll(stopServer);

for (const s of SETUPS) {
  describe(`unencodable outcomes on the ${s.name} backend`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it('each is stored: a value that encodes as itself, anything else as a FAILURE (EncodeError) the caller sees', async () => {
      const queue = `unencodable-${randomUUID().slice(0, 8)}`;
      const app = new App({ broker: s.broker, backend: s.backend(), defaultQueue: queue, ...CELERY_NAMES });
      for (const [i, c] of CASES.entries()) app.task(`enc.${i}`, c.run);
      const worker = app.worker({ concurrency: 4 });
      const errors: Error[] = [];
      worker.on('error', (e) => errors.push(e));
      cleanups.push(async () => {
        await worker.stop();
        await app.connection.deleteQueue(queue).catch(() => undefined);
        await app.connection.deleteExchange(queue).catch(() => undefined);
        await deleteCeleryNames(app.connection);
        await app.close();
      });
      await worker.start();
      const results = await Promise.all(CASES.map((_, i) => app.sendTask(`enc.${i}`, [])));
      const outcomes = await Promise.all(
        results.map(async (r) => {
          const got = await r.get({ timeout: 10_000, propagate: false });
          return got instanceof TaskError ? { excType: got.excType, state: r.state } : { value: got, state: r.state };
        }),
      );
      const byName = Object.fromEntries(CASES.map((c, i) => [c.name, outcomes[i]]));
      for (const c of CASES) {
        const expected = 'excType' in c.expect ? { excType: c.expect.excType, state: 'FAILURE' } : { value: c.expect.value, state: 'SUCCESS' };
        expect(byName[c.name], c.name).toEqual(expected);
      }
      const encodeFailure = (await results[0]?.get({ timeout: 1000, propagate: false })) as TaskError;
      expect(encodeFailure.excModule).toBe('kombu.exceptions');
      expect(encodeFailure.message).toMatch(/circular/i);
      expect(errors).toEqual([]);
    });
  });
}
