/** nori's App and worker, as a user runs them: late acks, leases, fencing and confirms at their defaults. */
import '@nori/amqp';
import '@nori/redis';
import { App } from '@nori/tasks';
import type { NoriWorkerSpec, StartWorker } from '../lib/worker-process.js';
import { benchTasks } from './nori-tasks.js';

export const startNoriWorker: StartWorker<NoriWorkerSpec> = async (spec, finished) => {
  const app = new App({ broker: spec.broker, backend: spec.backend, defaultQueue: spec.queue, ...spec.app });
  benchTasks(app);
  const worker = app.worker({ concurrency: spec.concurrency, ...(spec.events && { sendEvents: true, heartbeat: false }) });
  worker.on('task-succeeded', finished);
  await worker.start();
  return async () => {
    await worker.stop();
    await app.close();
  };
};
