/**
 * A plain redis-server of the test's own, on a free port, for tests whose sweeps must not touch
 * (or be touched by) other tests' in-flight messages on the shared Redis.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = 30_000 + Math.floor(Math.random() * 2_000);
  const dir = mkdtempSync(join(tmpdir(), 'nori-private-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
  probe.on('error', () => undefined); // refused until the server listens
  try {
    await Promise.race([probe.ping(), exited.then(() => Promise.reject(new Error(`redis-server on ${port} exited`)))]);
  } finally {
    probe.disconnect();
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      server.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
