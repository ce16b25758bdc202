/**
 * The `faults` project's runner: when the run did not ask for fault tests (see
 * `faultTestsRequested`), a fault file is not even imported; in its place stands one skipped test
 * whose name says why, and the reason is printed.
 */
import { relative } from 'node:path';
import { TestRunner, it } from 'vitest';
import { FAULT_SKIP_REASON, FAULT_TESTS_ENV } from './fault-tests-requested.js';

export default class FaultGuardRunner extends TestRunner {
  override importFile(filepath: string, source: Parameters<TestRunner['importFile']>[1]): unknown {
    if (source !== 'collect' || process.env[FAULT_TESTS_ENV] === '1') return super.importFile(filepath, source);
    console.warn(`${relative(this.config.root, filepath)}: ${FAULT_SKIP_REASON}`);
    it.skip(FAULT_SKIP_REASON, () => undefined);
    return undefined;
  }
}
