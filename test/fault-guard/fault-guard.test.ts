/**
 * Fault tests run only when asked for: a vitest run that merely matches their files skips each
 * one whole (no hook runs) and says why; `--project faults` and `npm test` run them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_SKIP_REASON, FAULT_TESTS_ENV, faultTestsRequested } from './fault-tests-requested.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const probe = 'test/fault-guard/probe.fault.test.ts';
const dir = mkdtempSync(join(tmpdir(), 'nori-fault-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child vitest on the probe file with `args`, outside this run's environment; what its hooks and tests left behind. */
async function runProbe(name: string, args: string[], env: Record<string, string> = {}): Promise<{ output: string; ran: string[] }> {
  const marker = join(dir, name);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== FAULT_TESTS_ENV && key !== 'NODE_ENV'));
  // The verbose reporter alone: the config's JSON report is CI's, not this child's to overwrite.
  const { stdout, stderr } = await promisify(execFile)('node_modules/.bin/vitest', ['run', probe, '--reporter=verbose', ...args], {
    cwd: root,
    env: { ...clean, ...env, PROBE_MARKER: marker },
  });
  let ran: string[] = [];
  try {
    ran = readFileSync(marker, 'utf8').trim().split('\n');
  } catch {
    // Nothing ran.
  }
  return { output: stdout + stderr, ran };
}

describe('fault test guard', () => {
  it('asks for fault tests only through NORI_FAULT_TESTS=1 or --project faults', () => {
    expect(faultTestsRequested(['node', 'vitest', 'run'], {})).toBe(false);
    expect(faultTestsRequested(['node', 'vitest', 'run', 'packages/redis/test', '--exclude', '**/*.fault.test.ts'], {})).toBe(false);
    expect(faultTestsRequested(['node', 'vitest', 'run', '--project', 'main'], {})).toBe(false);
    expect(faultTestsRequested(['node', 'vitest', 'run'], { [FAULT_TESTS_ENV]: '0' })).toBe(false);
    expect(faultTestsRequested(['node', 'vitest', 'run', '--project', 'faults'], {})).toBe(true);
    expect(faultTestsRequested(['node', 'vitest', 'run', '--project=faults', 'x.fault.test.ts'], {})).toBe(true);
    expect(faultTestsRequested(['node', 'vitest', 'run'], { [FAULT_TESTS_ENV]: '1' })).toBe(true);
  });

  it('skips a matched fault file loudly, before its hooks, and runs it when asked for', async () => {
    const [excluded, selected, underNpmTest] = await Promise.all([
      runProbe('excluded', ['--exclude', '**/*.fault.test.ts']),
      runProbe('selected', ['--project', 'faults']),
      runProbe('npm-test', [], { [FAULT_TESTS_ENV]: '1' }),
    ]);
    expect(excluded.ran).toEqual([]);
    expect(excluded.output).toContain(FAULT_SKIP_REASON);
    expect(excluded.output).toMatch(/1 skipped/);
    expect(selected.ran).toEqual(['beforeAll', 'test']);
    expect(selected.output).toMatch(/1 passed/);
    expect(underNpmTest.ran).toEqual(['beforeAll', 'test']);
  });
});
