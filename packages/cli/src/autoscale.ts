/**
 * Celery's `--autoscale max,min` for the async pool: every tick, grow by one while every slot is
 * busy (up to max), shrink by one after `idleTicks` ticks with free slots (down to min).
 */
import type { Worker } from '@nori/tasks';

export interface AutoscaleOptions {
  max: number;
  min: number;
  /** ms between checks. Default 1000. */
  interval?: number;
  /** Ticks with free slots before shrinking. Default 5. */
  idleTicks?: number;
}

export function autoscale(worker: Worker, o: AutoscaleOptions, onChange: (concurrency: number) => void): () => void {
  let idle = 0;
  const timer = setInterval(() => {
    const n = worker.concurrency;
    if (worker.active >= n && n < o.max) {
      idle = 0;
      worker.resize(n + 1);
      onChange(n + 1);
    } else if (worker.active < n && n > Math.max(o.min, 1)) {
      if (++idle >= (o.idleTicks ?? 5)) {
        idle = 0;
        worker.resize(n - 1);
        onChange(n - 1);
      }
    } else idle = 0;
  }, o.interval ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
