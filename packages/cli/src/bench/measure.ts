import { performance } from 'node:perf_hooks';

/**
 * Calls of `fn` per second over about `ms` of wall time, after a short warm-up. Calls run in
 * batches sized from the warm-up, so a 1 µs encode is not dominated by reading the clock.
 */
export function perSecond(fn: () => void, ms: number): number {
  let calls = 0;
  const warm = performance.now();
  do {
    fn();
    calls++;
  } while (performance.now() - warm < Math.min(20, ms / 5));
  const batch = Math.max(1, Math.round(calls / 10));
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (n * 1000) / elapsed;
}
