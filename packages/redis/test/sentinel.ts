/**
 * A real Redis Sentinel for the tests: `redis-server --sentinel` on a free port, monitoring the
 * tests' Redis (REDIS_URL) as master `noritest`. stop() kills it and removes its directory.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisUrl } from '@nori/testing/brokers';

const run = promisify(execFile);
const port = 29_000 + Math.floor(Math.random() * 1_000);
export const masterName = 'noritest';
export const sentinelUrl = `sentinel://127.0.0.1:${port}`;
const master = new URL(redisUrl());
const masterPort = master.port || '6379';

let dir: string | undefined;
let sentinel: ChildProcess | undefined;

export async function startSentinel(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'nori-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  // Sentinel monitors an IP address (a host name is refused unless resolve-hostnames is on): REDIS_URL may say localhost.
  const { address } = await lookup(master.hostname, { family: 4 });
  writeFileSync(config, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${masterName} ${address} ${masterPort} 1\n`);
  sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'sentinel', 'get-master-addr-by-name', masterName]).catch(() => ({ stdout: '' }));
    if (stdout.includes(masterPort)) return;
    if (Date.now() > deadline) throw new Error('redis sentinel did not come up');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stopSentinel(): Promise<void> {
  sentinel?.kill('SIGKILL');
  sentinel = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
