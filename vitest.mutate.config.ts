/**
 * The tests `npm run mutate` runs against each mutant: those of core, redis, tasks and the dashboard
 * (no fault tests, none that start private clusters, sentinels or TLS servers, no browser), as one
 * flat project because Stryker's vitest runner drives a single one. Tests that name the shared
 * Redis (port 6379) literally are pointed at the private one scripts/mutate.sh starts (the rest
 * read its REDIS_URL), so a mutant that breaks the sweep cannot take other people's in-flight messages.
 */
import { mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const port = process.env['NORI_MUTATE_REDIS_PORT'] ?? '6391';
// Every test of the mutated packages but the browser-driven dashboard ones.
const ALL_TESTS = [
  'packages/{core,redis,tasks}/test/**/*.test.ts',
  'packages/cli/test/{flower,flower-security,flower-guard,flower-server,flower-sign-in,flower-api,flower-dlq-routes,sign-in-rules,task-search}.test.ts',
];
const TEST_FILE = /\/(packages\/[a-z-]+\/test|packages\/testing\/src|test)\//;

export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined, reporters: ['default'] } },
  {
    plugins: [
      {
        name: 'nori-private-redis',
        enforce: 'pre',
        transform: (code: string, id: string) =>
          TEST_FILE.test(id) && !id.includes('node_modules') && code.includes('6379') ? code.replace(/\b6379\b/g, port) : null,
      },
    ],
    test: {
      // NORI_MUTATE_TESTS (one glob) narrows the tests, e.g. to those of the file under mutation.
      include: process.env['NORI_MUTATE_TESTS'] ? [process.env['NORI_MUTATE_TESTS']] : ALL_TESTS,
      exclude: ['**/*.fault.test.ts', '**/node_modules/**', 'packages/redis/test/{cluster,sentinel,tls}.test.ts'],
    },
  },
);
