/**
 * The tests `npm run mutate` runs against each mutant: the unit and conformance tests of core and
 * redis (no fault tests, none that start private clusters, sentinels or TLS servers), as one flat
 * project because Stryker's vitest runner drives a single one. The tests name the shared Redis
 * (port 6379); here they are pointed at the private one scripts/mutate.sh starts, so a mutant that
 * breaks the sweep cannot take other people's in-flight messages.
 */
import { mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const port = process.env['NORI_MUTATE_REDIS_PORT'] ?? '6391';
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
      // NORI_MUTATE_TESTS (one glob) narrows the tests, e.g. to the broker-free unit tests.
      include: [process.env['NORI_MUTATE_TESTS'] ?? 'packages/{core,redis}/test/**/*.test.ts'],
      exclude: ['**/*.fault.test.ts', '**/node_modules/**', 'packages/redis/test/{cluster,sentinel,tls}.test.ts'],
    },
  },
);
