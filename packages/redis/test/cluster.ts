/**
 * A real three-master Redis Cluster for the tests: three redis-server processes on free ports in
 * a temporary directory, joined with `redis-cli --cluster create`. Nothing persists; stop() kills
 * the processes and removes the directory.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const base = 21_000 + Math.floor(Math.random() * 8_000);
export const clusterPorts = [base, base + 1, base + 2];
export const clusterUrl = `redis+cluster://127.0.0.1:${base}`;

let dir: string | undefined;
const servers: ChildProcess[] = [];

async function clusterState(port: number): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']).catch(() => ({ stdout: '' }));
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'down';
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startCluster(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'nori-cluster-'));
  for (const port of clusterPorts) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`];
    servers.push(spawn('redis-server', [...args, '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  }
  await until('the servers', async () => (await Promise.all(clusterPorts.map(clusterState))).every((s) => s !== 'down'));
  const nodes = clusterPorts.map((port) => `127.0.0.1:${port}`);
  await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
  await until('cluster_state:ok', async () => (await Promise.all(clusterPorts.map(clusterState))).every((s) => s === 'ok'));
}

export async function stopCluster(): Promise<void> {
  for (const server of servers.splice(0)) server.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** The hash slot of a key, as the cluster computes it. */
export async function slotOf(key: string): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(base), 'cluster', 'keyslot', key]);
  return Number(stdout.trim());
}

/** The port of the master that serves a hash slot. */
export async function masterOf(slot: number): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(base), '--json', 'cluster', 'slots']);
  const ranges = JSON.parse(stdout) as Array<[number, number, [string, number, string]]>;
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no master serves slot ${slot}`);
  return range[2][1];
}
