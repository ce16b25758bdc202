/**
 * Serve a task to Python: a nori worker runs `tasks.shout`, which Python calls by name
 * (`app.signature('tasks.shout').delay('hi').get()` in examples/python/proj.py) and whose result
 * Python reads from Celery's Redis result backend. Stops on SIGINT/SIGTERM (a warm shutdown).
 */
import '@nori/redis';
import { App } from '@nori/tasks';

const app = new App({
  broker: process.env['BROKER'] ?? 'redis://127.0.0.1:6379/0',
  backend: process.env['BACKEND'] ?? 'redis://127.0.0.1:6379/1',
  defaultQueue: process.env['QUEUE'] ?? 'celery',
  serializer: 'json-plain',
});
app.task('tasks.shout', (text: string) => `${text.toUpperCase()}!`);

const worker = app.worker({ concurrency: 10 });
await worker.start();
console.log('serving tasks.shout');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void worker.stop().then(() => app.close());
  });
}
