/**
 * The real `nori` bin against Redis: a worker started with `nori worker` serves tasks sent with
 * `nori call`, `nori inspect`/`status` reach it, SIGTERM lets a running task finish, purge asks
 * first, and exit codes hold.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Connection } from '@nori/core';
import { deleteCeleryNames } from '../../tasks/test/celery-names.js';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, stopAll, run, start, type Child } from './bin.js';

const queue = `cli-test-${randomUUID().slice(0, 8)}`;
const idleQueue = `${queue}-idle`;
const hostname = `cli-${randomUUID().slice(0, 8)}@test`;
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const nori = (args: string[], input?: string): ReturnType<typeof run> => run(['-A', APP, ...args], env, input);
const conn = new Connection(REDIS);
const redis = new Redis(REDIS);
let worker: Child;

beforeAll(async () => {
  worker = start(['worker', '-A', APP, '-c', '4', '-l', 'info', '-E', '-n', hostname], env);
  await worker.waitFor(/ready, consuming/);
});

afterAll(async () => {
  await stopAll();
  for (const q of [queue, idleQueue]) {
    await conn.deleteQueue(q).catch(() => undefined);
    await conn.deleteExchange(q).catch(() => undefined);
  }
  await deleteCeleryNames(conn);
  await conn.close();
  redis.disconnect();
});

describe('nori (the bin)', () => {
  it('a worker started with `nori worker` serves a task sent with `nori call`', async () => {
    const call = await nori(['call', 'cli.add', '--args', '[2, 3]', '--wait', '--timeout', '20000']);
    expect(call.stderr).toBe('');
    expect(call.code).toBe(0);
    const [id, result] = call.stdout.trim().split('\n');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(result!)).toEqual({ 'task-id': id, state: 'SUCCESS', result: 5 });
    await worker.waitFor(new RegExp(`cli\\.add\\[${id}\\] succeeded in [0-9.]+s: 5`));

    const read = await nori(['result', id!]);
    expect(read.code).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({ 'task-id': id, state: 'SUCCESS', result: 5 });
  });

  it('`nori inspect ping` and `nori status` see the worker', async () => {
    const ping = await nori(['inspect', 'ping', '-d', hostname, '--json', '--timeout', '3']);
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout)).toEqual({ [hostname]: { ok: 'pong' } });

    const registered = await nori(['inspect', 'registered', '-d', hostname, '--timeout', '3']);
    expect(registered.code).toBe(0);
    expect(registered.stdout).toContain(`-> ${hostname}: OK`);
    expect(registered.stdout).toContain('cli.sleep');

    const status = await nori(['status', '-d', hostname, '--timeout', '3']);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(`${hostname}: OK\n\n1 node online.\n`);

    const limit = await nori(['control', 'rate_limit', 'cli.add', '100/s', '-d', hostname, '--json', '--timeout', '3']);
    expect(JSON.parse(limit.stdout)).toEqual({ [hostname]: { ok: 'new rate limit set successfully' } });
  });

  it('exit codes: 2 for bad usage, 69 when no worker replies, 1 when a task fails', async () => {
    expect((await nori(['no-such-command'])).code).toBe(2);
    const badArgs = await nori(['call', 'cli.add', '--args', '{"x": 1}']);
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toContain('--args must be a JSON array');
    expect((await run(['status'], {})).code).toBe(2); // no -A, no -b
    const nobody = await nori(['inspect', 'ping', '-d', 'nobody@nowhere', '--timeout', '0.3']);
    expect(nobody.code).toBe(69);
    expect(nobody.stderr).toContain('No nodes replied');
    const failed = await nori(['call', 'cli.fail', '--args', '["too big"]', '--wait']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout.split('\n')[1]!)).toMatchObject({ state: 'FAILURE', result: 'RangeError: too big' });
    expect(failed.stderr).toContain('RangeError: too big');
    expect((await run(['beat', '-b', REDIS, 'add', 'x', '--task', 't'], {})).code).toBe(2); // needs --every, --crontab or --at
    expect((await nori(['--help'])).code).toBe(0);
  });

  it('`nori purge` asks first, deletes nothing on "n", and deletes with -f', async () => {
    for (let i = 0; i < 3; i++) expect((await nori(['call', 'cli.add', '--args', `[${i}, 1]`, '-Q', idleQueue])).code).toBe(0);
    const declined = await nori(['purge', '-Q', idleQueue], 'n\n');
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain(`Delete all waiting messages in 1 queue (${idleQueue})?`);
    expect(await conn.queueSize(idleQueue)).toBe(3);
    const forced = await nori(['purge', '-Q', idleQueue, '-f']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`${idleQueue}: 3 messages purged`);
    expect(await conn.queueSize(idleQueue)).toBe(0);
  });

  it('`nori events --dump` prints the events of a task', async () => {
    const events = start(['-A', APP, 'events', '--dump'], env);
    await events.waitFor(/listening for events/);
    const call = await nori(['call', 'cli.add', '--args', '[20, 22]', '--wait']);
    const id = call.stdout.split('\n')[0]!;
    const line = await events.waitFor(new RegExp(`${hostname} task-succeeded .*"uuid":"${id}".*`));
    expect(line[0]).toContain('"result":"42"');
    events.process.kill('SIGTERM');
    expect(await events.exited).toBe(0);
  });

  it('`nori worker -E --without-heartbeat` sends worker-online but no worker-heartbeat', async () => {
    const quietQueue = `${queue}-nobeat`;
    const quietHost = `nobeat-${hostname}`;
    const events = start(['-A', APP, 'events', '--dump'], env);
    await events.waitFor(/listening for events/);
    const quiet = start(['worker', '-A', APP, '-Q', quietQueue, '-E', '--without-heartbeat', '-n', quietHost], env);
    try {
      await events.waitFor(new RegExp(`${quietHost} worker-online`));
      // The test's other worker (-E, default 2 s heartbeats) beats twice meanwhile; this one never does.
      await events.waitFor(new RegExp(`Z ${hostname} worker-heartbeat[^]*Z ${hostname} worker-heartbeat`), 15_000);
      expect(events.stdout).not.toContain(`${quietHost} worker-heartbeat`);
    } finally {
      quiet.process.kill('SIGTERM');
      events.process.kill('SIGTERM');
      await Promise.all([quiet.exited, events.exited]);
      await conn.deleteQueue(quietQueue).catch(() => undefined);
      await conn.deleteExchange(quietQueue).catch(() => undefined);
    }
  });

  it('`nori beat` sends the schedule the app module exports, and stops on SIGTERM', async () => {
    const name = `cli-${randomUUID().slice(0, 8)}`;
    const beat = start(['-A', APP, 'beat', '--name', name, '--lock-ttl', '2000'], env);
    try {
      const [, id] = await beat.waitFor(/Sending due task add-often \(cli\.add\) \[([0-9a-f-]{36})\]/);
      await worker.waitFor(new RegExp(`cli\\.add\\[${id}\\] succeeded in [0-9.]+s: 101`));
      beat.process.kill('SIGTERM');
      expect(await beat.exited).toBe(0);
      expect(beat.stderr).toContain('beat stopped');
    } finally {
      // Beat keeps its lock and state in the result backend's Redis.
      const store = new Redis(BACKEND);
      await store.del(...['lock', 'last_run', 'pending', 'code'].map((k) => `nori-beat:${name}:${k}`));
      store.disconnect();
    }
  });

  it('SIGTERM is a warm shutdown: the running task finishes and its result is stored', async () => {
    const call = await nori(['call', 'cli.sleep', '--args', '[1500]']);
    const id = call.stdout.trim();
    await worker.waitFor(new RegExp(`cli\\.sleep\\[${id}\\] received`));
    worker.process.kill('SIGTERM');
    await worker.waitFor(/SIGTERM: warm shutdown/);
    expect(await worker.exited).toBe(0);
    expect(worker.stderr).toMatch(new RegExp(`cli\\.sleep\\[${id}\\] succeeded in [0-9.]+s: "slept"`));
    expect(worker.stderr).toContain('worker stopped');
    const read = await nori(['result', id]);
    expect(JSON.parse(read.stdout)).toEqual({ 'task-id': id, state: 'SUCCESS', result: 'slept' });
  });

  it('--eta-hold-max, --eta-hold-limit and --no-return-parked-on-stop reach the worker: past either bound an ETA task is parked, and stays parked on a warm stop', async () => {
    const etaQueue = `${queue}-eta`;
    const w = start(
      [
        'worker',
        '-A',
        APP,
        '-Q',
        etaQueue,
        '-l',
        'info',
        '-n',
        `eta-${hostname}`,
        '--eta-hold-max',
        '20s',
        '--eta-hold-limit',
        '1',
        '--no-return-parked-on-stop',
      ],
      env,
    );
    const send = async (countdown: string): Promise<string> => {
      const id = (await nori(['call', 'cli.add', '--args', '[1, 2]', '--countdown', countdown, '-Q', etaQueue])).stdout.trim();
      await w.waitFor(new RegExp(`cli\\.add\\[${id}\\] received`));
      return id;
    };
    try {
      await w.waitFor(/ready, consuming/);
      // Held (within 20 s, the one place); parked (no place left); parked (beyond 20 s). By default all three are held.
      const held = await send('10');
      const full = await send('10');
      const far = await send('60');
      await w.waitFor(new RegExp(`cli\\.add\\[${far}\\] parked until`));
      await w.waitFor(new RegExp(`cli\\.add\\[${full}\\] parked until`));
      expect(w.stderr).not.toContain(`cli.add[${held}] parked`);
      w.process.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      // The held one is back in the queue; the parked ones are still in its delayed set (returned, by default).
      expect(await conn.queueSize(etaQueue)).toBe(1);
      expect(await (await conn.transport()).promoteDelayed!(etaQueue)).toBe(2);
    } finally {
      await conn.deleteQueue(etaQueue).catch(() => undefined);
      await conn.deleteExchange(etaQueue).catch(() => undefined);
    }
  });

  it('a second SIGTERM is a cold shutdown: the process ends at once and the running task goes back to its queue', async () => {
    const coldQueue = `${queue}-cold`;
    const cold = start(['worker', '-A', APP, '-Q', coldQueue, '-l', 'info', '-n', `cold-${hostname}`], env);
    try {
      await cold.waitFor(/ready, consuming/);
      const id = (await nori(['call', 'cli.sleep', '--args', '[60000]', '-Q', coldQueue])).stdout.trim();
      await cold.waitFor(new RegExp(`cli\\.sleep\\[${id}\\] received`));
      cold.process.kill('SIGTERM');
      await cold.waitFor(/SIGTERM: warm shutdown/);
      const second = Date.now();
      cold.process.kill('SIGTERM');
      expect(await cold.exited).toBe(0);
      expect(Date.now() - second).toBeLessThan(15_000);
      expect(cold.stderr).toContain('SIGTERM: cold shutdown');
      expect(cold.stderr).not.toContain(`cli.sleep[${id}] succeeded`);
      // Late ack: the abandoned task's message is back in its queue for another worker.
      expect(await conn.queueSize(coldQueue)).toBe(1);
    } finally {
      await conn.deleteQueue(coldQueue).catch(() => undefined);
      await conn.deleteExchange(coldQueue).catch(() => undefined);
    }
  });
});
