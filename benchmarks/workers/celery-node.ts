/**
 * celery-node's worker (the Node Celery client/worker): one BRPOP at a time, each task started
 * without waiting for the one before, its result always stored (it has no ignore_result).
 */
import { createWorker } from 'celery-node';
import type { CeleryNodeWorkerSpec, StartWorker } from '../lib/worker-process.js';

export const startCeleryNodeWorker: StartWorker<CeleryNodeWorkerSpec> = async (spec, finished) => {
  const worker = createWorker(spec.broker, spec.backend, spec.queue);
  worker.register('bench.add', (x: number, y: number) => {
    finished();
    return x + y;
  });
  await worker.isReady();
  void worker.start();
  // Its stop() throws "not implemented yet": closing its connections ends the BRPOP loop.
  return () => worker.disconnect();
};
