/**
 * Issue 27 item 5's show: two `nori beat` processes share one schedule in Redis (stored entries
 * only, no app module); a `nori beat add` stores an entry every 1 s, the leader is SIGKILLed, the
 * other takes over, `nori beat add` changes the entry's arguments, `nori beat rm` removes it. Each
 * change takes effect within one tick of beat's 200 ms check; the queue holds every due time from
 * the first to the last, 1 s apart (none lost across the kill), and no id twice but the one tick
 * the kill may interrupt (sent again with its id, as documented).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import '@nori/redis';
import { tickId } from '@nori/tasks/protocol';
import { cleanUp, REDIS, run, start, type Child } from './bin.js';

const queue = `beat-show-${randomUUID().slice(0, 8)}`;
const name = `beat-show-${randomUUID().slice(0, 8)}`;
const conn = new Connection(REDIS);
const redis = new Redis(REDIS);
afterAll(async () => {
  await redis.del(...['lock', 'last_run', 'pending', 'entries', 'disabled', 'version', 'changes', 'code'].map((k) => `nori-beat:${name}:${k}`));
  redis.disconnect();
  await cleanUp(conn, [queue]);
});

const CHECK_MS = 200;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nori = (args: readonly string[]) => run(['-b', REDIS, 'beat', '--name', name, ...args]);

/** The lines a beat printed saying it leads (in order, true/false). */
const leads = (c: Child): boolean[] => [...(c.stderr + c.stdout).matchAll(/beat: (leading|standing by)/g)].map((m) => m[1] === 'leading');

it('a schedule added, changed and removed from the CLI while two beats run, the leader killed in between', async () => {
  const beats = [0, 1].map(() => start(['-b', REDIS, 'beat', '--name', name, '--lock-ttl', '2000']));
  await Promise.all(beats.map((b) => b.waitFor(/beat: (leading|standing by)/, 30_000)));
  /** When the command started and when it ended: the change was stored in between. */
  const add = async (args: unknown[]): Promise<{ from: number; to: number }> => {
    const from = Date.now();
    const r = await nori(['add', 'tick', '--task', 'show.tick', '--every', '1s', '--missed', 'all', '-Q', queue, '--args', JSON.stringify(args)]);
    expect(r.stdout).toContain('stored tick: show.tick every 1000 ms');
    expect(r.code).toBe(0);
    return { from, to: Date.now() };
  };

  const added = await add([1]);
  await sleep(3500);
  const leader = beats.find((b) => leads(b).at(-1) === true) as Child;
  const other = beats.find((b) => b !== leader) as Child;
  const killedAt = Date.now();
  leader.process.kill('SIGKILL');
  await other.waitFor(/beat: leading/, 10_000);
  const tookOver = Date.now() - killedAt;
  const changed = await add([2]);
  await sleep(3000);
  const removeCalled = Date.now();
  const removed = await nori(['rm', 'tick']);
  expect(removed.code).toBe(0);
  const removedAt = Date.now();
  await sleep(2500);
  const listed = await nori(['ls']);
  expect(listed.stdout).toContain('no entries');
  const changes = await nori(['changes', '--json']);
  expect((JSON.parse(changes.stdout) as Array<{ op: string }>).map((c) => c.op)).toEqual(['remove', 'upsert', 'upsert']);

  // What reached the queue: each tick's id (fixed by entry and due time) and its arguments.
  const sent: Array<{ id: string; args: unknown }> = [];
  for (;;) {
    const m = await conn
      .simpleQueue(queue)
      .get({ timeout: 500 })
      .catch(() => undefined);
    if (!m) break;
    sent.push({ id: m.headers['id'] as string, args: (m.body as unknown[])[0] });
    await m.ack();
  }
  // Due times from the beats' lines (a killed leader may not have printed its last one).
  const logged = new Map(
    beats.flatMap((b) =>
      [...b.stderr.matchAll(/Sending due task tick \(show\.tick\) \[([0-9a-f-]{36})\] due (\S+)/g)].map((m) => [m[1], Date.parse(m[2] as string)]),
    ),
  );
  const anchor = [...logged.values()][0] as number;
  const dueOf = (id: string): number | undefined =>
    logged.get(id) ?? Array.from({ length: 60 }, (_, k) => anchor + (k - 30) * 1000).find((due) => tickId(name, 'tick', due) === id);
  const ticks = sent.map((s) => ({ ...s, due: dueOf(s.id) as number }));
  expect(ticks.every((t) => t.due !== undefined)).toBe(true);

  const distinct = [...new Map(ticks.map((t) => [t.id, t])).values()].sort((a, b) => a.due - b.due);
  // At most one tick twice (the one the kill may interrupt), with one id.
  expect(ticks.length - distinct.length).toBeLessThanOrEqual(1);
  // Every due time from the first to the last, 1 s apart: none lost across the kill.
  expect(distinct.slice(1).map((t, i) => t.due - (distinct[i] as { due: number }).due)).toEqual(Array(distinct.length - 1).fill(1000));
  // Added: the first tick is one interval after the leader saw it, within one check of the add.
  const first = distinct[0] as { due: number };
  expect(first.due - 1000).toBeGreaterThanOrEqual(added.from);
  expect(first.due - 1000 - added.to).toBeLessThanOrEqual(CHECK_MS + 100);
  // Changed: every tick due after the check that follows the change has the new arguments, every one due before it the old.
  for (const t of distinct) {
    if (t.due > changed.to + CHECK_MS + 100) expect(t.args).toEqual([2]);
    if (t.due < changed.from) expect(t.args).toEqual([1]);
  }
  expect(distinct.some((t) => (t.args as number[])[0] === 1) && distinct.some((t) => (t.args as number[])[0] === 2)).toBe(true);
  // Removed: nothing due after the check that follows the removal.
  const last = distinct.at(-1) as { due: number };
  expect(last.due).toBeLessThanOrEqual(removedAt + CHECK_MS + 100);
  expect(distinct.length).toBeGreaterThanOrEqual(8);
  console.info(
    `${distinct.length} ticks, ${ticks.length - distinct.length} sent twice; first due ${first.due - added.to} ms after the add ended; ` +
      `takeover ${tookOver} ms after the kill; last due ${last.due - removeCalled} ms after the rm was called`,
  );
}, 90_000);
