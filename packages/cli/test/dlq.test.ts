/**
 * `nori dlq` on Redis, RabbitMQ and MongoDB: tasks and a plain message that a consumer's retry
 * gave up on lie in a dead-letter queue; the bin lists them (twice: nothing consumed, order kept),
 * purges one, replays one back to its queue (attempt count reset, x-death gone), fails to replay
 * to a deleted queue without losing anything, and replays the rest elsewhere with --to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTEMPT_HEADER, Connection, Exchange, Queue } from '@nori/core';
import { App } from '@nori/tasks';
import { collect, TestNames } from '@nori/testing';
import { AMQP_TRANSPORT_OPTIONS } from '@nori/testing/brokers';
import { startServer, stopServer } from '../../mongodb/test/server.js';
import { run, stopAll } from './bin.js';
import { DLQ_BROKERS, giveUp, type Letter } from './dead-letters.js';

beforeAll(startServer);
afterAll(async () => {
  await stopAll();
  await stopServer();
});

describe.each(DLQ_BROKERS)('nori dlq ($name)', ({ url, backend }) => {
  const names = new TestNames('cli-dlq');
  const dlx = new Exchange(names.name('dlx'), { type: 'direct' });
  const work = new Queue(names.name('work'), { deadLetterExchange: dlx.name });
  const dlq = new Queue(names.name('dlq'), { exchange: dlx, routingKey: work.name });
  const elsewhere = new Queue(names.name('elsewhere'));
  const conn = new Connection(url, { transportOptions: AMQP_TRANSPORT_OPTIONS });
  const app = new App({ broker: url, backend, queues: [work] });
  const nori = (args: string[]): ReturnType<typeof run> => run(['-b', url, '--result-backend', backend, 'dlq', ...args]);
  const ls = async (): Promise<Letter[]> => {
    const r = await nori(['ls', dlq.name, '--json']);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Letter[];
  };
  let taskIds: string[];
  let plainId: string;
  let started: number;
  /** The dead-letter queue's order, as the first `ls` saw it (the retries finish in any order). */
  let order: string[];
  const inOrder = (...ids: Array<string | undefined>): string[] => order.filter((id) => ids.includes(id));

  beforeAll(async () => {
    await conn.declare(dlq);
    await conn.declare(work);
    await conn.declare(elsewhere);
    started = Math.floor(Date.now() / 1000) * 1000;
    taskIds = [];
    for (const n of [0, 1, 2]) taskIds.push((await app.sendTask('dlq.work', [n], { n }, { queue: work.name })).taskId);
    await conn.producer().publish({ plain: true }, { routingKey: work.name, messageId: 'plain-1' });
    plainId = 'plain-1';
    // The first task's worker stored its failure, as a Celery or nori worker does.
    await app.backend.storeResult(taskIds[0]!, 'FAILURE', new Error('no such user'));
    await giveUp(conn, work, dlq, 4);
    expect(await conn.queueSize(dlq)).toBe(4);
  });

  afterAll(async () => {
    await app.backend.forget(taskIds[0]!);
    await app.close();
    await names.deleteAll(conn);
    await conn.close();
  });

  it('ls lists each dead letter (id, task, the queue it came from, why, attempts, when, the stored error) and consumes none', async () => {
    const letters = await ls();
    order = letters.map((l) => l.id);
    expect([...order].sort()).toEqual([...taskIds, plainId].sort());
    for (const l of letters) {
      expect(l).toMatchObject({ queue: work.name, reason: 'rejected', attempts: 2, task: l.id === plainId ? null : 'dlq.work' });
      expect(Date.parse(l.deadLetteredAt!)).toBeGreaterThanOrEqual(started);
      expect(Date.parse(l.deadLetteredAt!)).toBeLessThanOrEqual(Date.now());
    }
    expect(taskIds.map((id) => letters.find((l) => l.id === id)?.error)).toEqual(['Error: no such user', null, null]);
    // Read again: all there, in the same order.
    expect((await ls()).map((l) => l.id)).toEqual(order);
    expect(await conn.queueSize(dlq)).toBe(4);

    const table = await nori(['ls', dlq.name]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.split('\n');
    expect(header).toMatch(/^id +task +from +reason +attempts +dead-lettered +error$/);
    expect(rows.slice(0, 4).map((r) => r.split(' ')[0])).toEqual(order);
    const failed = rows.find((r) => r.startsWith(`${taskIds[0]} `));
    expect(failed).toMatch(new RegExp(` +dlq\\.work +${work.name} +rejected +2 +\\S+ +Error: no such user$`));
    expect(rows.slice(4)).toEqual(['', `4 of 4 messages in ${dlq.name} shown; none consumed.`, '']);

    const limited = await nori(['ls', dlq.name, '--limit', '2']);
    expect(
      limited.stdout
        .split('\n')
        .slice(1)
        .map((r) => r.split(' ')[0]),
    ).toEqual([order[0], order[1], '', '2', '']);
  });

  it('purge --id removes that message only; without -f it asks, and no answer purges nothing', async () => {
    const declined = await nori(['purge', dlq.name]);
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('Nothing purged.');
    const purged = await nori(['purge', dlq.name, '--id', plainId, '-f']);
    expect(purged.stdout).toBe(`Purged 1 message from ${dlq.name}.\n`);
    expect((await ls()).map((l) => l.id)).toEqual(inOrder(...taskIds));
  });

  it('replay --id sends that one back to its queue, attempt count reset and x-death gone, and takes it off the dead-letter queue', async () => {
    const r = await nori(['replay', dlq.name, '--id', taskIds[1]!, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ id: taskIds[1], task: 'dlq.work', to: work.name }]);
    expect((await ls()).map((l) => l.id)).toEqual(inOrder(taskIds[0], taskIds[2]));

    const [back, ...more] = await collect(conn, [work], 2, { timeoutMs: 3000 });
    expect(more).toEqual([]);
    expect(back!.headers).toMatchObject({ id: taskIds[1], task: 'dlq.work', retries: 0 });
    expect(back!.headers).not.toHaveProperty('x-death');
    expect(back!.headers).not.toHaveProperty(ATTEMPT_HEADER);
    expect(back!.body).toEqual([[1], { n: 1 }, { callbacks: null, errbacks: null, chain: null, chord: null }]);
  });

  it('replay to a queue that is gone fails (exit 1) and keeps every message; --to sends them elsewhere', async () => {
    await conn.deleteQueue(work);
    const failed = await nori(['replay', dlq.name]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe(`Replayed 0 of 2 messages from ${dlq.name}.\n`);
    const left = inOrder(taskIds[0], taskIds[2]);
    expect(failed.stderr).toBe(left.map((id) => `nori: ${id} stays in ${dlq.name}: queue "${work.name}" does not exist\n`).join(''));
    expect((await ls()).map((l) => l.id)).toEqual(left);

    const moved = await nori(['replay', dlq.name, '--to', elsewhere.name]);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toBe(`${left[0]} -> ${elsewhere.name}\n${left[1]} -> ${elsewhere.name}\nReplayed 2 of 2 messages from ${dlq.name}.\n`);
    expect(await ls()).toEqual([]);
    const got = await collect(conn, [elsewhere], 2, { timeoutMs: 5000 });
    expect(got.map((m) => m.headers['id'])).toEqual(left);
  });

  it('a queue that does not exist: exit 1, one line', async () => {
    const r = await nori(['ls', `${dlq.name}-nope`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`nori: queue "${dlq.name}-nope" does not exist\n`);
  });
});
