/**
 * Beat: schedules (interval, crontab in a time zone across DST, one-off), missed ticks after
 * downtime (once by default, all when asked), and two beat processes sharing one Redis lock:
 * every tick sent exactly once, and when the leader is SIGKILLed the other takes over within the
 * lock's lifetime without losing a tick (the tick the kill interrupted may come twice, with one id).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { EncodeError } from '@nori/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AlreadyQueued, at, crontab, every, type TickInfo } from '@nori/tasks';
import { onceKey, tickId } from '@nori/tasks/protocol';
import { redisUrl } from '@nori/testing/brokers';
import { REDIS, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);
const redis = new Redis(REDIS);
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  redis.disconnect();
});

describe('schedules', () => {
  it('every, at, and crontab in a time zone across both DST changes', () => {
    expect(every(1000).next(5000)).toBe(6000);
    const when = new Date('2030-01-01T00:00:00Z');
    expect(at(when).next(0)).toBe(when.getTime());
    expect(at(when).next(when.getTime())).toBeUndefined();
    const berlin = crontab('30 2 * * *', { timezone: 'Europe/Berlin' });
    // 2026-03-29 02:30 does not exist in Berlin (02:00 → 03:00): it runs once, at 03:00 CEST (01:00 UTC), as cron does.
    const spring = berlin.next(Date.parse('2026-03-28T12:00:00Z')) as number;
    expect(new Date(spring).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(new Date(berlin.next(spring) as number).toISOString()).toBe('2026-03-30T00:30:00.000Z');
    // 2026-10-25 02:30 happens twice in Berlin: it runs once (the first, 00:30 UTC) and next on the 26th.
    const first = berlin.next(Date.parse('2026-10-24T12:00:00Z')) as number;
    expect(new Date(first).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(new Date(berlin.next(first) as number).toISOString()).toBe('2026-10-26T01:30:00.000Z');
    expect(() => crontab('61 * * * *')).toThrow(/crontab/);
  });
});

/** Two beat processes on one schedule; the leader is SIGKILLed after `before` ms; ticks counted from the queue. */
async function failover(store: 'redis' | 'file', lockTtl: number, before: number, after: number, minTicks: number): Promise<void> {
  const { queue, conn } = testbed(REDIS);
  const name = `beat-failover-${randomUUID().slice(0, 8)}`;
  const dir = store === 'file' ? await mkdtemp(join(tmpdir(), 'nori-beat-')) : undefined;
  const file = dir ? [join(dir, 'beat.json')] : [];
  const script = fileURLToPath(new URL('beat-process.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const logs = new Map<ChildProcess, string>();
  const start = (): ChildProcess => {
    const child = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', script, REDIS, name, queue, String(lockTtl), ...file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    logs.set(child, '');
    child.stdout?.on('data', (d: Buffer) => logs.set(child, (logs.get(child) ?? '') + d.toString()));
    return child;
  };
  const [a, b] = [start(), start()];
  try {
    await waitFor('both beats', () => [a, b].every((c) => /^ready$/m.test(logs.get(c) ?? '')), 30_000);
    await new Promise((r) => setTimeout(r, before));
    const leader = [a, b].find(
      (c) =>
        (logs.get(c) ?? '')
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('leader'))
          .at(-1) === 'leader true',
    ) as ChildProcess;
    const other = leader === a ? b : a;
    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await waitFor('the other to lead', () => /^leader true$/m.test(logs.get(other) ?? ''), lockTtl + 5000);
    const tookOverIn = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, after));
    other.kill('SIGTERM');
    await new Promise((r) => other.once('exit', r));

    // What reached the queue, one message per tick: a process killed just after sending may not
    // have printed its last tick, so the queue is the truth; tick ids are fixed by due time.
    const sent = [a, b].flatMap((c) =>
      (logs.get(c) ?? '')
        .split('\n')
        .filter((l) => l.startsWith('tick '))
        .map((l) => l.split(' ')),
    );
    const firstDue = Math.min(...sent.map(([, , due]) => Number(due)));
    const dueOf = new Map(Array.from({ length: 120 }, (_, k) => [tickId(name, 'tick', firstDue + k * 1000), firstDue + k * 1000]));
    const ids: string[] = [];
    for (;;) {
      const m = await conn
        .simpleQueue(queue)
        .get({ timeout: 500 })
        .catch(() => undefined);
      if (!m) break;
      ids.push(m.headers['id'] as string);
      await m.ack();
    }
    // The one kill may land between the broker taking a tick and its commit: the new leader then
    // sends that tick again with the same id (as documented), so at most one id comes twice.
    const distinct = [...new Set(ids)];
    expect(ids.length - distinct.length).toBeLessThanOrEqual(1);
    const dues = distinct.map((id) => dueOf.get(id) as number).sort((x, y) => x - y);
    expect(dues.every((d) => d !== undefined)).toBe(true);
    // Every due time from the first to the last, 1 s apart, none lost (the fail-over gap caught up).
    expect(dues.length).toBeGreaterThanOrEqual(minTicks);
    expect(dues.slice(1).map((d, i) => d - (dues[i] as number))).toEqual(Array(dues.length - 1).fill(1000));
    for (const [, id] of sent) expect(ids).toContain(id);
    expect(tookOverIn).toBeLessThanOrEqual(lockTtl + 3000);
  } finally {
    for (const c of [a, b]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await redis.del(`nori-beat:${name}:lock`, `nori-beat:${name}:last_run`, `nori-beat:${name}:pending`);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

describe('beat on Redis', () => {
  it('after downtime, missed ticks run once by default, or all of them with missed: all', async () => {
    const { app } = testbed(REDIS);
    const name = `beat-test-${randomUUID().slice(0, 8)}`;
    const startedAt = Date.now();
    const down = startedAt - 5500;
    await redis.hset(`nori-beat:${name}:last_run`, 'once', String(down), 'all', String(down));
    const beat = app.beat({
      name,
      schedule: { once: { task: 'b.once', schedule: every(1000) }, all: { task: 'b.all', schedule: every(1000), missed: 'all' } },
    });
    const ticks: TickInfo[] = [];
    beat.on('tick-sent', (t) => ticks.push(t));
    beat.start();
    try {
      await waitFor('the catch-up', () => ticks.filter((t) => t.entry === 'all').length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      // Ticks due before the beat started: one for 'once', five for 'all' (later ones are regular ticks).
      const once = ticks.filter((t) => t.entry === 'once' && t.due.getTime() <= startedAt);
      const all = ticks.filter((t) => t.entry === 'all');
      expect(once.length).toBe(1);
      expect(once[0]?.due.getTime()).toBe(down + 5000);
      expect(all.slice(0, 5).map((t) => t.due.getTime())).toEqual([1, 2, 3, 4, 5].map((k) => down + k * 1000));
    } finally {
      await beat.clear();
      await beat.stop();
    }
  });

  it('an entry whose send throws (AlreadyQueued once-task, unencodable argument) is reported by name and skipped; the entries after it keep ticking', async () => {
    const { app } = testbed(REDIS, { backend: redisUrl(1) });
    const name = `beat-test-${randomUUID().slice(0, 8)}`;
    const onceTask = `b.once.${name}`;
    app.task(onceTask, () => undefined, { once: { timeout: 60_000 } });
    const beat = app.beat({
      name,
      schedule: {
        // Listed first: each throws on every tick after the first (the lock is held, no worker runs it) or on every tick.
        locked: { task: onceTask, schedule: every(250) },
        unencodable: { task: 'b.function', schedule: every(250), args: [() => 1] },
        good: { task: 'b.good', schedule: every(250) },
      },
    });
    const ticks: TickInfo[] = [];
    const errors: Array<{ error: Error; tick: TickInfo | undefined }> = [];
    beat.on('tick-sent', (t) => ticks.push(t));
    beat.on('error', (error, tick) => errors.push({ error, tick }));
    beat.start();
    try {
      await new Promise((r) => setTimeout(r, 2600));
      const good = ticks.filter((t) => t.entry === 'good');
      // One tick every 250 ms for about 2.35 s after the first: 9, give or take the edges.
      expect(good.length).toBeGreaterThanOrEqual(7);
      expect(ticks.filter((t) => t.entry === 'locked')).toHaveLength(1);
      expect(ticks.filter((t) => t.entry === 'unencodable')).toHaveLength(0);
      // Every error names the tick it failed (entry, task, due time, the id it would have had).
      expect(errors.every((e) => e.tick !== undefined)).toBe(true);
      const locked = errors.filter((e) => e.tick?.entry === 'locked');
      const unencodable = errors.filter((e) => e.tick?.entry === 'unencodable');
      expect(locked.length + unencodable.length).toBe(errors.length);
      // Once per due time, as Celery's beat logs a failed send and moves to the next one (not once per 200 ms check).
      expect(locked.length).toBeGreaterThanOrEqual(good.length - 2);
      expect(locked.length).toBeLessThanOrEqual(good.length);
      expect(unencodable.length).toBeGreaterThanOrEqual(good.length - 1);
      expect(unencodable.length).toBeLessThanOrEqual(good.length + 1);
      expect(locked[0]?.error).toBeInstanceOf(AlreadyQueued);
      expect(unencodable[0]?.error).toBeInstanceOf(EncodeError);
      expect(unencodable[0]?.tick).toMatchObject({ task: 'b.function', due: expect.any(Date) as Date, taskId: expect.any(String) as string });
      expect(new Set(unencodable.map((e) => e.tick?.due.getTime())).size).toBe(unencodable.length);
      // The failed ticks count as run: none is left pending for a new leader to send again.
      expect(await redis.hlen(`nori-beat:${name}:pending`)).toBe(0);
    } finally {
      await beat.clear();
      await beat.stop();
      await redis.del(onceKey(onceTask, [], {}));
    }
  });

  it(
    'two beat processes send each 1 s tick once; SIGKILL the leader and the other takes over with no tick lost, and none sent twice but the one the kill interrupted (same id)',
    () => failover('redis', 3000, 12_000, 10_000, 20),
    60_000,
  );

  it('the same with the state in a file on this machine', () => failover('file', 1500, 5000, 5000, 9), 40_000);
});
