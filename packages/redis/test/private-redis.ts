/**
 * A plain redis-server of the test's own, on a free port, for tests whose sweeps must not touch
 * (or be touched by) other tests' in-flight messages on the shared Redis, and for tests that must
 * break a broker (fill its memory, change its password): the shared one is never touched.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** A client of the server (with its password, when it has one), for the test's own commands. */
  readonly admin: Redis;
  stop(): Promise<void>;
}

/** `args` go to redis-server as they are; `password` sets `requirepass`. */
export async function startPrivateRedis(args: readonly string[] = [], password?: string): Promise<PrivateRedis> {
  const port = 30_000 + Math.floor(Math.random() * 2_000);
  const dir = mkdtempSync(join(tmpdir(), 'nori-private-redis-'));
  const auth = password === undefined ? [] : ['--requirepass', password];
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...auth, ...args], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const admin = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => 100,
    maxRetriesPerRequest: null,
    ...(password !== undefined && { password }),
  });
  admin.on('error', () => undefined); // refused until the server listens
  try {
    await Promise.race([admin.ping(), exited.then(() => Promise.reject(new Error(`redis-server on ${port} exited`)))]);
  } catch (error) {
    admin.disconnect();
    throw error;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    admin,
    stop: async () => {
      admin.disconnect();
      server.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
