/**
 * Python Celery's worker as the task benchmarks run it: Debian's Celery 5.2 on benchmarks/python/
 * bench_app.py (the tests' interop_app plus bench.stamp), the solo pool or prefork with -c 2 (what a
 * Celery user runs on 2 cores), prefetch multiplier 4 (Celery's default).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startCeleryWorker, type CeleryEnv, type CeleryWorker } from '../../packages/tasks/test/python/celery.js';
import { PYTHON, PYTHON_DIR } from '../../packages/tasks/test/python/python-process.js';

export type CeleryPool = 'solo' | 'prefork';

/** Processes that run tasks. */
export const poolProcesses = (pool: CeleryPool): number => (pool === 'solo' ? 1 : 2);

export const poolName = (pool: CeleryPool): string => (pool === 'solo' ? 'solo worker' : 'prefork -c 2');

/** Celery's version on /usr/bin/python3, or undefined without it. */
export function celeryVersion(): string | undefined {
  try {
    return execFileSync(PYTHON, ['-c', 'import celery; print(celery.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** benchmarks/python: bench_app.py and the benchmarks' Python clients. */
export const BENCH_PYTHON = fileURLToPath(new URL('../python', import.meta.url));

/** The environment a Python process needs for bench_app: its broker, backend and queue. */
export function benchAppEnv(broker: string, backend: string, queue: string): CeleryEnv {
  return { broker, backend, queue, app: { module: 'bench_app', dir: BENCH_PYTHON }, env: { PYTHONPATH: `${BENCH_PYTHON}:${PYTHON_DIR}` } };
}

/** `events`: task and worker events (-E); heartbeats stay off (startCeleryWorker's --without-heartbeat). */
export function startBenchCelery(broker: string, backend: string, queue: string, pool: CeleryPool, o: { events?: boolean } = {}): Promise<CeleryWorker> {
  return startCeleryWorker(benchAppEnv(broker, backend, queue), {
    pool,
    ...(pool === 'prefork' && { concurrency: poolProcesses(pool) }),
    extraArgs: ['--prefetch-multiplier', '4', ...(o.events ? ['-E'] : [])],
  });
}
