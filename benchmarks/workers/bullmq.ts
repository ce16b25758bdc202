/** A BullMQ Worker: job `add` returns x + y, job `stamp` the time it started. */
import { Worker } from 'bullmq';
import type { BullWorkerSpec, StartWorker } from '../lib/worker-process.js';
import { monotonicMs, redisOptions } from '../lib/workload.js';

export const startBullWorker: StartWorker<BullWorkerSpec> = async (spec, finished) => {
  const worker = new Worker(
    spec.queue,
    (job) => {
      if (job.name === 'stamp') return Promise.resolve(monotonicMs());
      const { x, y } = job.data as { x: number; y: number };
      return Promise.resolve(x + y);
    },
    { connection: redisOptions(spec.redis), concurrency: spec.concurrency },
  );
  worker.on('completed', finished);
  await worker.waitUntilReady();
  return () => worker.close();
};
