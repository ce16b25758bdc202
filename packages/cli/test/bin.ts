/**
 * Runs the built `nori` bin (packages/cli/dist/bin.js, made by `tsc -b`) as a child process, and
 * kills whatever is still running at the end of a test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { redisUrl } from '@nori/testing/brokers';

export const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const APP = fileURLToPath(new URL('fixtures/app.js', import.meta.url));
export const REDIS = redisUrl();
export const BACKEND = redisUrl(1);

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

export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
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
