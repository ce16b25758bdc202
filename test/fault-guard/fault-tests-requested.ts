/**
 * Whether this vitest run asked for the fault tests. They restart brokers and kill processes, so
 * a run that merely matches their files (a path filter, `--exclude` does not reach the `faults`
 * project's own include) must not start them: they run under `npm test` (which sets
 * NORI_FAULT_TESTS=1) or when `--project faults` is on the command line.
 */
export const FAULT_TESTS_ENV = 'NORI_FAULT_TESTS';

export function faultTestsRequested(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env[FAULT_TESTS_ENV] === '1') return true;
  return argv.some((arg, i) => arg === '--project=faults' || (arg === '--project' && argv[i + 1] === 'faults'));
}

export const FAULT_SKIP_REASON = `fault test skipped: it restarts brokers and kills processes, so it runs only with \`--project faults\` or under \`npm test\` (${FAULT_TESTS_ENV}=1)`;
