/**
 * A redis-server of the test's own on a free port, for tests that must break a broker (fill its
 * memory, change its password): the shared one on 6379 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  readonly port: number;
  /** A client with the server's password (when it has one). */
  readonly admin: Redis;
  stop(): Promise<void>;
}

export async function startPrivateRedis(args: readonly string[] = [], password?: string): Promise<PrivateRedis> {
  const port = 27_000 + Math.floor(Math.random() * 1_000);
  const dir = mkdtempSync(join(tmpdir(), 'nori-redis-'));
  const auth = password === undefined ? [] : ['--requirepass', password];
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...auth, ...args], { stdio: 'ignore' });
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, ...(password !== undefined && { password }) });
  admin.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin.connect();
      if ((await admin.ping()) === 'PONG') break;
    } catch {
      admin.disconnect();
      if (Date.now() > deadline) throw new Error(`private redis-server on ${port} did not come up`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    port,
    admin,
    async stop() {
      admin.disconnect();
      server.kill('SIGKILL');
      await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
