/**
 * The child side of lib/worker-process.ts: starts the worker its argument describes, counts the
 * tasks it finishes, answers `until` once the count reaches it, and exits on `stop`.
 */
import type { FromWorker, ToWorker, WorkerSpec } from '../lib/worker-process.js';
import { startAmqplibConsumer } from './amqplib.js';
import { startBullWorker } from './bullmq.js';
import { startCeleryNodeWorker } from './celery-node.js';
import { startNoriWorker } from './nori.js';

const spec = JSON.parse(process.argv[2] as string) as WorkerSpec;
const send = (m: FromWorker): boolean => (process.send as (m: FromWorker) => boolean)(m);

let count = 0;
const waits = new Set<number>();
const finished = (): void => {
  count++;
  if (!waits.has(count)) return;
  waits.delete(count);
  send({ op: 'reached', finished: count });
};

const stop =
  spec.kind === 'nori'
    ? await startNoriWorker(spec, finished)
    : spec.kind === 'bullmq'
      ? await startBullWorker(spec, finished)
      : spec.kind === 'celery-node'
        ? await startCeleryNodeWorker(spec, finished)
        : await startAmqplibConsumer(spec, finished);

process.on('message', (m: ToWorker) => {
  if (m.op === 'until') {
    if (count >= m.finished) send({ op: 'reached', finished: m.finished });
    else waits.add(m.finished);
  } else {
    void stop().then(() => process.exit(0));
  }
});
send({ op: 'ready' });
