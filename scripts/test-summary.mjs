// Print vitest's JSON report as the plain line CI reads last: "tests: N passed, M failed" (the
// skipped count on the line before, so the last line keeps exactly that shape).
// A missing report (vitest never ran or crashed) counts as one failure; a test file that failed to
// load counts as a failure too, since its tests never ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest/report.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failedFiles = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
const failed = (report.numFailedTests ?? 0) + failedFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// Name every failure here too: CI keeps only the tail of its output, and vitest's own failure report
// is far above it.
for (const file of report.testResults ?? []) {
  const where = file.name.replace(`${process.cwd()}/`, '');
  if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) {
    console.log(`failed to load: ${where}: ${firstLine(file.message)}`);
  }
  for (const test of file.assertionResults ?? []) {
    if (test.status === 'failed') console.log(`failed: ${where} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
  }
}
console.log(`skipped: ${skipped} (reported as skipped, not passed)`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || report.success === false ? 1 : 0);

function firstLine(text) {
  return String(text ?? '')
    .split('\n')[0]
    .slice(0, 300);
}
