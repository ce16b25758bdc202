// `npm run mutate`: StrykerJS over core, redis, the task layer and the dashboard. Incremental: a
// rerun only tests the mutants whose code or covering tests changed since the last run
// (reports/stryker-incremental.json). The whole scope is far too long for two shared cores: run it
// in parts with --mutate and NORI_MUTATE_TESTS (docs/mutants.md lists the parts and their times).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm keeps core's own node_modules apart, so the runner is named rather than discovered.
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  mutate: [
    'packages/core/src/**/*.ts',
    'packages/redis/src/**/*.ts',
    'packages/tasks/src/{worker,protocol,canvas,once,beat,backends}/**/*.ts',
    'packages/cli/src/flower/*.ts',
    '!**/index.ts',
  ],
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant) needs every test rerun; too dear on two shared cores.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Two shared cores and broker-bound tests: few workers, generous timeouts.
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
