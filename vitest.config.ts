import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { FAULT_TESTS_ENV, faultTestsRequested } from './test/fault-guard/fault-tests-requested.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const FAULTS = '**/*.fault.test.ts';
// A mutation run's copies of the tests (npm run mutate's sandboxes) are not part of the suite.
const NOT_TESTS = ['**/node_modules/**', '**/.stryker-tmp/**'];

export default defineConfig({
  resolve: {
    // Tests run against the sources, so no build is needed between an edit and a test run.
    alias: [
      { find: /^@nori\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
      { find: /^@nori\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}packages/$1/src/$2/index.ts` },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only make broker-bound tests slower and flakier.
    maxWorkers: 2,
    // The JSON report is what .ci/run's closing "tests: N passed, M failed" line is read from.
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [FAULTS, ...NOT_TESTS],
        },
      },
      {
        // Fault tests restart brokers and kill processes: after everything else, one file at a time,
        // and only when asked for; otherwise their runner skips each file, saying why.
        extends: true,
        test: {
          name: 'faults',
          runner: './test/fault-guard/fault-guard-runner.ts',
          env: { [FAULT_TESTS_ENV]: faultTestsRequested(process.argv, process.env) ? '1' : '0' },
          include: [FAULTS],
          exclude: NOT_TESTS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
