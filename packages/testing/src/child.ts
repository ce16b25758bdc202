/** Child processes for tests (the suite's child-*.ts beside this file, or a test's own script, run from sources with tsx): start one, wait for its lines, kill it. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { extname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const script = (name: string): string => fileURLToPath(new URL(`./${name}${extname(here)}`, import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Whether the suite's child scripts can run here: they run under tsx, which the repository has and an
 * application that installed @nori/testing alone may not (its child tests are skipped there).
 */
export const childrenRunnable: boolean = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('tsx');
    return true;
  } catch {
    return false;
  }
})();

export interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Every line it printed so far. */
  readonly lines: string[];
  /** Resolves once it printed `want`; fails after `ms` with what it printed. */
  line(want: string, ms: number): Promise<void>;
}

/** `name`: one of the suite's scripts (`child-blocking`), or the absolute path of a script of the caller's. */
export function child(name: string, args: readonly string[]): Child {
  const path = isAbsolute(name) ? name : script(name);
  const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', path, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
    for (const w of waiters) w();
  });
  const line = (want: string, ms: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!lines.includes(want)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(
        () => reject(new Error(`${name} did not print "${want}" within ${ms} ms; printed ${JSON.stringify(lines)}; stderr: ${stderr}`)),
        ms,
      );
      waiters.add(check);
      check();
    });
  return { proc, lines, line };
}

export async function kill(proc: ChildProcessWithoutNullStreams): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGKILL');
  await new Promise((resolve) => proc.once('exit', resolve));
}
