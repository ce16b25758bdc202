/**
 * The task quick start: an app, a typed task, a worker, a call and its result, on memory:// (no
 * server needed). Pass a URL to use a real broker and backend, e.g.
 *   node --import tsx examples/tasks-quickstart.ts redis://127.0.0.1:6379/0 redis://127.0.0.1:6379/1
 * (after installing @nori/redis).
 */
import '@nori/redis';
import { App, currentTask, TaskError } from '@nori/tasks';

const broker = process.argv[2] ?? 'memory://';
const backend = process.argv[3] ?? 'memory://';
const app = new App({ broker, backend, defaultQueue: process.env['QUEUE'] ?? 'celery' });

const add = app.task('proj.add', (x: number, y: number) => x + y);
const divide = app.task('proj.divide', (x: number, y: number) => {
  if (y === 0) throw new RangeError(`cannot divide ${x} by zero (task ${currentTask().id})`);
  return x / y;
});

const worker = app.worker({ concurrency: 8 });
await worker.start();

const sum = await add.delay(2, 3); // resolves once the broker has the message
console.log(`add(2, 3) = ${await sum.get({ timeout: 5000 })}`); // typed: number

const later = await add.applyAsync([40, 2], {}, { countdown: 500 });
console.log(`add(40, 2) after 500 ms = ${await later.get({ timeout: 5000 })} (${later.state})`);

const failed = await divide.delay(1, 0);
try {
  await failed.get({ timeout: 5000 });
} catch (error) {
  if (!(error instanceof TaskError)) throw error;
  console.log(`divide(1, 0) failed: ${error.excType}: ${String(error.excMessage[0]).replace(/ \(task .*\)/, '')}`);
}

await worker.stop();
await app.close();
