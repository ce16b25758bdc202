/**
 * The `nori` command feels like `celery`: --version, a banner when a worker starts, operational
 * errors in one line that say what failed (no stack unless -l debug), a hint for a TypeScript
 * module, Celery's seconds where Celery takes seconds, and JSON log lines for log shippers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { APP, APP_NAMES_ENV, BACKEND, CLI_DIR, REDIS, cleanUp, freePort, run, start, stopAll } from './bin.js';

const queue = `cli-habits-${randomUUID().slice(0, 8)}`;
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const conn = new Connection(REDIS);

/** The task message waiting in the queue (no worker consumes it), as kombu's envelope. */
async function waitingMessage(): Promise<{ headers: Record<string, unknown> }> {
  const m = await conn.simpleQueue(queue).get({ timeout: 2000 });
  await m.ack();
  return { headers: m.headers };
}

afterAll(async () => {
  await cleanUp(conn, [queue]);
});

describe('nori feels like celery', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('an unreachable broker: one line naming what was refused, the stack only with -l debug', async () => {
    const port = await freePort();
    const r = await run(['-b', `redis://127.0.0.1:${port}/0`, 'call', 'cli.add']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const debug = await run(['-b', `redis://127.0.0.1:${port}/0`, '-l', 'debug', 'call', 'cli.add']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it('-A with a TypeScript module says how to run it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nori-ts-'));
    try {
      const file = join(dir, 'app.ts');
      writeFileSync(file, "import { App } from '@nori/tasks';\nexport const app: App = new App();\n");
      const r = await run(['-A', file, 'inspect', 'ping']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--import tsx');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--countdown and --expires take Celery's seconds, and --help says so", async () => {
    const sent = Date.now();
    const r = await run(['-A', APP, 'call', 'cli.add', '--args', '[1, 1]', '--countdown', '30', '--expires', '90.5'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { headers } = await waitingMessage();
    const eta = Date.parse(String(headers['eta']));
    const expires = Date.parse(String(headers['expires']));
    expect(eta - sent).toBeGreaterThan(29_000);
    expect(eta - sent).toBeLessThan(35_000);
    expect(expires - sent).toBeGreaterThan(89_000);
    expect(expires - sent).toBeLessThan(95_000);

    const iso = new Date(Date.now() + 3_600_000).toISOString();
    expect((await run(['-A', APP, 'call', 'cli.add', '--expires', iso], env)).code).toBe(0);
    expect(Date.parse(String((await waitingMessage()).headers['expires']))).toBe(Date.parse(iso));

    const help = await run(['call', '--help']);
    expect(help.stdout).toMatch(/--countdown <seconds>/);
    expect(help.stdout).toMatch(/--expires <seconds\|iso-date>/);
    const inspectHelp = await run(['inspect', '--help']);
    expect(inspectHelp.stdout).toMatch(/--timeout <seconds>/);
  });

  it('inspect --timeout is in seconds, as Celery', async () => {
    const t = Date.now();
    const ping = start(['-A', APP, 'inspect', 'ping', '-d', 'nobody@nowhere', '--timeout', '0.6'], env);
    await ping.waitFor(/No nodes replied/);
    const answered = Date.now();
    expect(await ping.exited).toBe(69);
    expect(answered - t).toBeGreaterThan(600);
    // It exits as soon as it answered: its close leaves no ioredis disconnect timer (2 s) pending (#23.5).
    expect(Date.now() - answered).toBeLessThan(1000);
  });

  it('a worker prints its banner at the default log level, and JSON log lines with --log-format json', async () => {
    const hostname = `habits-${randomUUID().slice(0, 8)}@test`;
    const backend = new URL(BACKEND);
    backend.password = 'banner-secret';
    const worker = start(['-A', APP, 'worker', '-n', hostname, '-c', '3'], { ...env, NORI_TEST_BACKEND: backend.toString() });
    await worker.waitFor(/\[tasks\][\s\S]*cli\.sleep/);
    expect(worker.stdout).toContain(hostname);
    expect(worker.stdout).toMatch(/transport: +redis:\/\/127\.0\.0\.1:\d+\/0/);
    expect(worker.stdout).toMatch(/results: +redis:\/\/:\*\*@127\.0\.0\.1:\d+\/1/);
    expect(worker.stdout).not.toContain('banner-secret');
    expect(worker.stdout).toMatch(/concurrency: +3 \(async\)/);
    expect(worker.stdout).toMatch(new RegExp(`\\.> ${queue} +exchange=${queue}\\(direct\\) key=${queue}`));
    for (const task of ['cli.add', 'cli.fail', 'cli.sleep']) expect(worker.stdout).toContain(`  . ${task}`);
    await stopAll();

    const json = start(['-A', APP, 'worker', '-n', `${hostname}-json`, '-l', 'info', '--log-format', 'json'], env);
    await json.waitFor(/"message":"[^"]*ready/);
    const call = await run(['-A', APP, 'call', 'cli.add', '--args', '[20, 22]', '--wait'], env);
    expect(call.code).toBe(0);
    const id = call.stdout.split('\n')[0]!;
    await json.waitFor(new RegExp(`"id":"${id}"[^\\n]*"state":"SUCCESS"|"state":"SUCCESS"[^\\n]*"id":"${id}"`));
    const lines = json.stderr.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) expect(p).toMatchObject({ level: expect.any(String), message: expect.any(String), pid: json.process.pid });
    expect(parsed.find((p) => p['id'] === id && p['state'] === 'SUCCESS')).toMatchObject({ task: 'cli.add', result: 42, duration_ms: expect.any(Number) });
    expect(json.stdout).toBe('');
  });
});
