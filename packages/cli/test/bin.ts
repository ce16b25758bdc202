/**
 * Runs the built `nori` bin (packages/cli/dist/bin.js, made by `tsc -b`) as a child process, and
 * stops whatever is still running at the end of a test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { redisUrl } from '@nori/testing/brokers';
import type { Connection } from '@nori/core';
import { CONTROL_EXCHANGE, EVENT_EXCHANGE, deleteCeleryNames } from '../../tasks/test/celery-names.js';

export const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const APP = fileURLToPath(new URL('fixtures/app.js', import.meta.url));
export const REDIS = redisUrl();
export const BACKEND = redisUrl(1);
/** The environment of fixtures/app.js: this file's own mailbox and event exchange (delete them with deleteCeleryNames). */
export const APP_NAMES_ENV = { NORI_TEST_CONTROL_EXCHANGE: CONTROL_EXCHANGE, NORI_TEST_EVENT_EXCHANGE: EVENT_EXCHANGE };

if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`tsc -b\` first`);

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Child {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves when stderr (or stdout) matches, rejects after `timeout` ms. */
  waitFor(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

/**
 * Stops every child still running: SIGTERM first, so workers, receivers and flower delete their
 * queues as they would in production; SIGKILL for one still there after 10 s.
 */
export async function stopAll(): Promise<void> {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  children.clear();
  await Promise.all(
    running.map(async (c) => {
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      const killer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }),
  );
}

export function start(args: readonly string[], env: Record<string, string> = {}): Child {
  const p = spawn(process.execPath, [BIN, ...args], { cwd: CLI_DIR, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  const child: Child = {
    process: p,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => p.on('exit', (code) => resolve(code))),
    waitFor: (pattern, timeout = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = pattern.exec(child.stderr) ?? pattern.exec(child.stdout);
          if (m) {
            clearTimeout(timer);
            p.stdout?.off('data', check);
            p.stderr?.off('data', check);
            resolve(m);
          }
          return !!m;
        };
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeout} ms; stdout: ${child.stdout}\nstderr: ${child.stderr}`)), timeout);
        if (!check()) {
          p.stdout?.on('data', check);
          p.stderr?.on('data', check);
        }
      }),
  };
  p.stdout?.on('data', (d: Buffer) => (child.stdout += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (child.stderr += d.toString()));
  return child;
}

export async function run(args: readonly string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  const c = start(args, env);
  c.process.stdin?.end(input ?? '');
  const code = await c.exited;
  children.delete(c.process);
  return { code, stdout: c.stdout, stderr: c.stderr };
}

/**
 * A test file's teardown: the bins stopped, its queues (and the exchanges of their names, which
 * Celery's declaration makes) deleted with its mailbox and event exchange, the connection closed.
 */
export async function cleanUp(conn: Connection, queues: readonly string[]): Promise<void> {
  await stopAll();
  for (const q of queues) {
    await conn.deleteQueue(q).catch(() => undefined);
    await conn.deleteExchange(q).catch(() => undefined);
  }
  await deleteCeleryNames(conn);
  await conn.close();
}

/** A port nothing listens on now (bound, then released): for a server to come, or to find refused. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
