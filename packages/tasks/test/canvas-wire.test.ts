/**
 * The canvas as the broker gets it, read off the queues before any worker runs: a chain's first
 * step with the rest reversed in `chain` and its id as root_id, a group's tasks under one group id
 * with their indexes, a chord's header carrying the body (with chord_size) and Celery's
 * chord_unlock sent beside it, every signature frozen with an id and the caller's reply queue, a
 * signature's Celery options read as nori's. Then a chord completed on the memory backend
 * (chord_unlock) and on rpc:// (by the caller): the body gets the results in header order, or
 * fails with ChordError naming the part.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionClosedError, TimeoutError, type Logger, type Message } from '@nori/core';
import { chain, chord, ChordError, group, GroupResult, signature, TaskError, type App, type Signature } from '@nori/tasks';
import { applySignature, signatureOptions } from '@nori/tasks/protocol';
import { freeze, frozenId, withReplyTo } from '../src/canvas/signature.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

/** Every message waiting in a queue, in order, acked. */
async function drain(app: App, queue: string, count: number): Promise<Message[]> {
  const q = app.connection.simpleQueue(queue);
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const m = await q.get({ timeout: 2000 });
    await m.ack();
    messages.push(m);
  }
  expect(await app.connection.queueSize(queue)).toBe(0);
  return messages;
}

type Body = [
  unknown[],
  Record<string, unknown>,
  { callbacks: Signature[] | null; errbacks: Signature[] | null; chain: Signature[] | null; chord: Signature | null },
];

describe('signatures', () => {
  it("signature() copies what it is given, in Celery's shape", () => {
    const args = [1];
    const kwargs = { k: 1 };
    const options = { queue: 'q' };
    const sig = signature('proj.add', args, kwargs, options);
    args.push(2);
    kwargs.k = 2;
    options.queue = 'other';
    expect(sig).toEqual({ task: 'proj.add', args: [1], kwargs: { k: 1 }, options: { queue: 'q' }, subtask_type: null, immutable: false, chord_size: null });
    expect(signature('proj.x')).toEqual({ task: 'proj.x', args: [], kwargs: {}, options: {}, subtask_type: null, immutable: false, chord_size: null });
  });

  it("reads Celery's option names and units, and nothing of the wrong type", () => {
    const link = signature('proj.cb');
    const errback = signature('proj.eb');
    const sig = signature(
      't',
      [],
      {},
      {
        queue: 'q1',
        routing_key: 'rk',
        exchange: 'ex',
        priority: 0,
        countdown: 1.5,
        task_id: 'id-1',
        reply_to: 'reply-q',
        link,
        link_error: [errback, link],
      },
    );
    expect(signatureOptions(sig)).toEqual({
      queue: 'q1',
      routingKey: 'rk',
      exchange: 'ex',
      priority: 0,
      countdown: 1500,
      taskId: 'id-1',
      replyTo: 'reply-q',
      link: [link],
      linkError: [errback, link],
    });
    const wrong = signature(
      't',
      [],
      {},
      { queue: 1, routing_key: 2, exchange: 3, priority: '9', countdown: '5', task_id: 4, reply_to: 5, link: 'x', link_error: null },
    );
    // No key at all for an option not given: an undefined one would override another when spread.
    expect(Object.keys(signatureOptions(wrong))).toEqual([]);
    expect(signatureOptions({ task: 't' })).toEqual({});
  });

  it('freezes an id and the reply queue into its options, keeping what it has', () => {
    const fresh = freeze(signature('t', [], {}, { queue: 'q' }), 'oid-1');
    expect(fresh.options).toEqual({ queue: 'q', task_id: expect.stringMatching(/^[0-9a-f-]{36}$/), reply_to: 'oid-1' });
    expect(frozenId(fresh)).toBe(fresh.options?.['task_id']);
    expect(freeze(signature('t'), 'o').options?.['task_id']).not.toBe(freeze(signature('t'), 'o').options?.['task_id']);
    const done = signature('t', [], {}, { task_id: 'id-1', reply_to: 'r' });
    expect(freeze(done, 'oid-1')).toBe(done);
    expect(freeze(signature('t', [], {}, { task_id: 'id-2' }), 'oid-1').options).toEqual({ task_id: 'id-2', reply_to: 'oid-1' });
    expect(freeze(signature('t', [], {}, { reply_to: 'r' }), 'oid-1').options).toEqual({ reply_to: 'r', task_id: expect.any(String) });
    const bare: Signature = freeze({ task: 't' }, 'oid-1');
    expect(bare.options).toEqual({ task_id: expect.any(String), reply_to: 'oid-1' });
    expect(frozenId({ task: 't' })).toBeUndefined();
    expect(frozenId(signature('t', [], {}, { task_id: 5 }))).toBeUndefined();
    const named = signature('t', [], {}, { reply_to: 'mine' });
    expect(withReplyTo(named, 'oid-1')).toBe(named);
    expect(withReplyTo(signature('t', [], {}, { queue: 'q' }), 'oid-1').options).toEqual({ queue: 'q', reply_to: 'oid-1' });
    expect(withReplyTo<Signature>({ task: 't' }, 'oid-1').options).toEqual({ reply_to: 'oid-1' });
  });

  it("sends a signature with the parent's result first unless immutable, over the task's own options", async () => {
    const { app, queue } = testbed('memory://');
    const other = `${queue}-own`;
    app.task('sw.own', () => 1, { queue: other });
    await applySignature(app, signature('sw.any', [2], { k: 1 }), [1]);
    await applySignature(app, { ...signature('sw.any', [2]), immutable: true }, [1]);
    await applySignature(app, { task: 'sw.any' }, [7]);
    await applySignature(app, { task: 'sw.any', immutable: true });
    await applySignature(app, signature('sw.any', [], {}, { task_id: 'sig-id', countdown: 60 }), [], { taskId: 'extra-id' });
    const [partial, immutable, noArgs, none, extra] = await drain(app, queue, 5);
    expect((partial?.body as Body).slice(0, 2)).toEqual([[1, 2], { k: 1 }]);
    expect((immutable?.body as Body)[0]).toEqual([2]);
    expect((noArgs?.body as Body)[0]).toEqual([7]);
    expect((none?.body as Body)[0]).toEqual([]);
    expect(extra?.headers['id']).toBe('extra-id');
    expect(Date.parse(extra?.headers['eta'] as string) - Date.now()).toBeGreaterThan(50_000);
    await applySignature(app, signature('sw.own'));
    const [own] = await drain(app, other, 1);
    expect(own?.headers['task']).toBe('sw.own');
    await app.connection.deleteQueue(other);
  });
});

describe('on the wire', () => {
  it('a chain sends its first step, the rest reversed in `chain`, every step frozen, root_id the first', async () => {
    const { app, queue } = testbed('memory://');
    const c = chain(signature('cw.a', [1]), signature('cw.b', [2]), { ...signature('cw.c', [3]), immutable: true });
    const r = await c.applyAsync(app, { args: ['p'] });
    const [m] = await drain(app, queue, 1);
    const [args, , embed] = m?.body as Body;
    expect(m?.headers).toMatchObject({ task: 'cw.a', root_id: m?.headers['id'], parent_id: null });
    expect(args).toEqual(['p', 1]);
    expect(embed.chain?.map((s) => s.task)).toEqual(['cw.c', 'cw.b']);
    for (const step of embed.chain ?? []) expect(step.options).toMatchObject({ task_id: expect.any(String), reply_to: app.oid });
    expect(r.id).toBe(embed.chain?.[0]?.options?.['task_id']);
    expect(m?.properties.replyTo).toBe(app.oid);

    const one = await chain(signature('cw.a')).applyAsync(app);
    const [single] = await drain(app, queue, 1);
    expect(single?.headers).toMatchObject({ id: one.id, root_id: one.id });
    expect((single?.body as Body)[0]).toEqual([]);
    expect((single?.body as Body)[2].chain).toBeNull();
    expect(() => chain(...([] as unknown as [Signature]))).toThrow(new TypeError('a chain needs at least one task'));
  });

  it('a group sends its tasks under one group id, indexed in order, the args before each', async () => {
    const { app, queue } = testbed('memory://');
    const g = await group(signature('cw.a', [1]), signature('cw.b', [2]), signature('cw.c', [3])).applyAsync(app, { args: [0] });
    const messages = await drain(app, queue, 3);
    expect(g.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(messages.map((m) => [m.headers['task'], m.headers['group'], m.headers['group_index'], (m.body as Body)[0], (m.body as Body)[2].chord])).toEqual([
      ['cw.a', g.id, 0, [0, 1], null],
      ['cw.b', g.id, 1, [0, 2], null],
      ['cw.c', g.id, 2, [0, 3], null],
    ]);
    expect(g.results.map((r) => r.id)).toEqual(messages.map((m) => m.headers['id']));
    const named = await group(signature('cw.a')).applyAsync(app, { groupId: 'g-fixed' });
    expect(named.id).toBe('g-fixed');
    await drain(app, queue, 1);
  });

  it('a chord sends chord_unlock (off Redis) and its header carrying the body with chord_size; an empty one its body at once', async () => {
    const { app, queue } = testbed('memory://', { backend: 'memory://' });
    const bodyQueue = `${queue}-body`;
    const before = Date.now();
    const r = await chord([signature('cw.a', [1]), signature('cw.b', [2])], signature('cw.sum', [], {}, { queue: bodyQueue })).applyAsync(app, { args: ['x'] });
    const unlock = (await drain(app, bodyQueue, 1))[0];
    const header = await drain(app, queue, 2);
    const groupId = header[0]?.headers['group'];
    expect(header.map((m) => [m.headers['task'], m.headers['group'], m.headers['group_index'], (m.body as Body)[0]])).toEqual([
      ['cw.a', groupId, 0, ['x', 1]],
      ['cw.b', groupId, 1, ['x', 2]],
    ]);
    const body = (header[0]?.body as Body)[2].chord;
    expect(body).toMatchObject({ task: 'cw.sum', chord_size: 2, options: { task_id: r.id, reply_to: app.oid, queue: bodyQueue } });
    expect((header[1]?.body as Body)[2].chord).toEqual(body);
    expect(unlock?.headers['task']).toBe('celery.chord_unlock');
    // Celery's countdown=1: the first poll a second after the header is sent.
    expect(Date.parse(unlock?.headers['eta'] as string) - before).toBeGreaterThanOrEqual(1000);
    expect(unlock?.body).toEqual([
      [groupId, body],
      { interval: 1, max_retries: null, result: header.map((m) => [[m.headers['id'], null], null]) },
      { callbacks: null, errbacks: null, chain: null, chord: null },
    ]);

    const empty = await chord([], signature('cw.sum')).applyAsync(app);
    const [alone] = await drain(app, queue, 1);
    expect(alone?.headers).toMatchObject({ task: 'cw.sum', id: empty.id });
    expect((alone?.body as Body)[0]).toEqual([[]]);
    expect(await app.connection.queueSize(bodyQueue)).toBe(0);
    await app.connection.deleteQueue(bodyQueue);
  });

  it('chord_unlock goes to the default queue when the body names none', async () => {
    const { app, queue } = testbed('memory://', { backend: 'memory://' });
    await chord([signature('cw.a')], signature('cw.sum', [], {}, { queue: 7 })).applyAsync(app);
    const messages = await drain(app, queue, 2);
    expect(messages.map((m) => m.headers['task']).sort()).toEqual(['celery.chord_unlock', 'cw.a']);
    await app.prepareChord('g', ['h'], { task: 'cw.sum' });
    const [unlock] = await drain(app, queue, 1);
    expect(unlock?.headers['task']).toBe('celery.chord_unlock');
  });
});

describe('group results', () => {
  it('are ready when all are, count the successes, and reject with the first failure', async () => {
    const { app } = testbed('memory://', { backend: 'memory://' });
    const ids = ['g-1', 'g-2', 'g-3'];
    const g = new GroupResult(
      'g',
      ids.map((id) => app.result<number>(id)),
    );
    await app.backend.storeResult('g-1', 'SUCCESS', 1);
    await app.backend.storeResult('g-2', 'SUCCESS', 2);
    expect(await g.ready()).toBe(false);
    expect(await g.completedCount()).toBe(2);
    await expect(g.get({ timeout: 100 })).rejects.toBeInstanceOf(TimeoutError);
    await app.backend.storeResult('g-3', 'FAILURE', new RangeError('third'));
    expect(await g.ready()).toBe(true);
    expect(await g.completedCount()).toBe(2);
    await expect(g.get({ timeout: 2000 })).rejects.toMatchObject({ excType: 'RangeError' });
    await app.backend.storeResult('g-3', 'SUCCESS', 3);
    const done = new GroupResult(
      'g',
      ids.map((id) => app.result<number>(id)),
    );
    expect(await done.get({ timeout: 2000 })).toEqual([1, 2, 3]);
  });
});

for (const backend of ['memory://', 'rpc://']) {
  describe(`a chord completed on ${backend}`, () => {
    it('gives the body the results in header order, once, each part run once', async () => {
      const { app, worker } = testbed('memory://', { backend });
      const sent: string[] = [];
      app.on('task-sent', (info) => sent.push(info.name));
      const partRuns: number[] = [];
      const part = app.task('cc.part', async (i: number) => {
        partRuns.push(i);
        await new Promise((resolve) => setTimeout(resolve, (3 - i) * 30));
        return `part ${i}`;
      });
      let runs = 0;
      const collect = app.task('cc.collect', (results: string[]) => {
        runs++;
        return results;
      });
      await worker({ concurrency: 4 });
      const r = await chord([part.s([0]), part.s([1]), part.s([2])], collect.s()).applyAsync<string[]>(app);
      expect(await r.get({ timeout: 10_000 })).toEqual(['part 0', 'part 1', 'part 2']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(runs).toBe(1);
      expect(partRuns.sort()).toEqual([0, 1, 2]);
      // rpc:// results reach only the caller, who completes the chord: no chord_unlock.
      expect(sent.filter((name) => name === 'celery.chord_unlock')).toHaveLength(backend === 'rpc://' ? 0 : 1);
    });

    it('fails the body with ChordError naming the part that failed, and never runs it', async () => {
      const { app, worker } = testbed('memory://', { backend });
      const ok = app.task('cc.ok', (x: number) => x);
      const bad = app.task('cc.bad', () => {
        throw new RangeError('header broke');
      });
      let runs = 0;
      const body = app.task('cc.body', () => ++runs);
      await worker({ concurrency: 2 });
      const badId = randomUUID();
      const r = await chord([ok.s([1]), { ...bad.s(), options: { task_id: badId } }], body.s()).applyAsync(app);
      const error = await r.get({ timeout: 10_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChordError);
      expect(error).toBeInstanceOf(TaskError);
      expect((error as ChordError).message).toBe(`ChordError: Dependency ${badId} raised RangeError: header broke`);
      expect(runs).toBe(0);
    });
  });
}

describe('celery.chord_unlock', () => {
  /** chord_unlock as Celery 5.2 sends it: the header results as ((id, parent), None) tuples, or plain ids. */
  async function unlock(app: App, body: Signature, ids: readonly string[], extra: Record<string, unknown> = {}) {
    const result = ids.map((id, i) => (i % 2 === 0 ? [[id, null], null] : id));
    return app.sendTask('celery.chord_unlock', [randomUUID(), body], { max_retries: null, result, ...extra });
  }

  it('retries every `interval` until every header result is ready, then sends the body the results in order', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const collect = app.task('cu.collect', (results: unknown[]) => results);
    const retries: number[] = [];
    app.on('task-sent', (info) => {
      if (info.name === 'celery.chord_unlock' && info.retries > 0) retries.push((info.eta?.getTime() ?? NaN) - Date.now());
    });
    await worker();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const body = freeze(collect.s(), app.oid);
    const sent = await unlock(app, body, ids, { interval: 0.05 });
    await expect.poll(() => retries.length).toBeGreaterThanOrEqual(2);
    await app.backend.storeResult(ids[2] as string, 'SUCCESS', 'c');
    await app.backend.storeResult(ids[1] as string, 'SUCCESS', 'b');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await app.backend.getResult(frozenId(body) as string)).state).toBe('PENDING');
    await app.backend.storeResult(ids[0] as string, 'SUCCESS', 'a');
    expect(await app.result(frozenId(body) as string).get({ timeout: 5000 })).toEqual(['a', 'b', 'c']);
    for (const wait of retries) expect(wait).toBeLessThan(500);
    // chord_unlock stores no result of its own (ignore_result).
    expect((await app.backend.getResult(sent.id)).state).toBe('PENDING');
  });

  it('retries after 1 s when the interval is not given, and takes FAILURE and REVOKED as ready', async () => {
    const { app, worker } = testbed('memory://', { backend: 'memory://' });
    const collect = app.task('cu.collect', (results: unknown[]) => results);
    const retries: number[] = [];
    app.on('task-sent', (info) => {
      if (info.name === 'celery.chord_unlock' && info.retries > 0) retries.push((info.eta?.getTime() ?? NaN) - Date.now());
    });
    await worker();
    const ids = [randomUUID(), randomUUID()];
    const body = freeze(collect.s(), app.oid);
    await unlock(app, body, ids);
    await expect.poll(() => retries.length).toBe(1);
    expect(retries[0]).toBeGreaterThan(800);
    await app.backend.storeResult(ids[0] as string, 'REVOKED', 'terminated');
    await app.backend.storeResult(ids[1] as string, 'FAILURE', new RangeError('no'));
    const error = await app
      .result(frozenId(body) as string)
      .get({ timeout: 5000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChordError);
    expect((error as Error).message).toContain(`Dependency ${ids[0]} raised`);
  });
});

it('a chord on rpc:// that its caller cannot complete is logged, not left silent', async () => {
  const errors: Array<[unknown, string]> = [];
  const logger = {
    error: (context: unknown, message: string) => void errors.push([context, message]),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
    fatal: () => undefined,
    level: 'error',
  } as unknown as Logger;
  (logger as unknown as { child: () => Logger }).child = () => logger;
  const { app } = testbed('memory://', { backend: 'rpc://', logger });
  const r = await chord([signature('cw.never')], signature('cw.sum')).applyAsync(app);
  await app.backend.close();
  await expect.poll(() => errors).toHaveLength(1);
  expect(errors[0]).toEqual([{ err: expect.any(ConnectionClosedError), chord: r.id }, 'chord not completed']);
});
