/** The tasks nori's benchmark worker runs, defined once for it and for the App that sends them. */
import type { App } from '@nori/tasks';
import { monotonicMs } from '../lib/workload.js';

export function benchTasks(app: App) {
  return {
    add: app.task('bench.add', (x: number, y: number) => x + y),
    addQuiet: app.task('bench.add_quiet', (x: number, y: number) => x + y, { ignoreResult: true }),
    /** When it started, on the clock every process shares: the latency benchmark's send-to-start. */
    stamp: app.task('bench.stamp', () => monotonicMs()),
  };
}
