/**
 * Call a task that lives in Python: `tasks.add` from examples/python/proj.py, run by a Celery
 * worker (`celery -A proj worker`), through Redis, with its result read from Celery's Redis
 * result backend. The declaration types sendTask's arguments and result.
 */
import '@nori/redis';
import { App } from '@nori/tasks';

declare module '@nori/tasks' {
  interface TaskRegistry {
    'tasks.add': (x: number, y: number) => number;
  }
}

const app = new App({
  broker: process.env['BROKER'] ?? 'redis://127.0.0.1:6379/0',
  backend: process.env['BACKEND'] ?? 'redis://127.0.0.1:6379/1',
  defaultQueue: process.env['QUEUE'] ?? 'celery',
  serializer: 'json-plain', // Celery 5.2 (kombu 5.2) cannot read kombu 5.3's JSON type tags
});

const result = await app.sendTask('tasks.add', [2, 3]);
const sum: number = await result.get({ timeout: 10_000 });
console.log(`Python's tasks.add(2, 3) = ${sum}`);
await app.close();
