/**
 * One App on a fresh queue per test, its workers, and the cleanup (workers stopped, queue deleted,
 * the file's mailbox and event exchanges deleted, app closed) that `afterEach(cleanup)` runs.
 */
import { randomUUID } from 'node:crypto';
import { Connection } from '@nori/core';
import { App, type AppOptions, type Worker, type WorkerOptions } from '@nori/tasks';
import { AMQP_TRANSPORT_OPTIONS } from '@nori/testing/brokers';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';

export interface Testbed {
  app: App;
  queue: string;
  /** A connection of the test's own, for looking at queues. */
  conn: Connection;
  worker(options?: WorkerOptions): Promise<Worker>;
}

const cleanups: Array<() => Promise<void>> = [];

export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function testbed(broker: string, options: AppOptions = {}): Testbed {
  const queue = `tasks-test-${randomUUID().slice(0, 8)}`;
  const transportOptions = { ...AMQP_TRANSPORT_OPTIONS, ...options.connection?.transportOptions };
  const app = new App({ broker, defaultQueue: queue, ...CELERY_NAMES, ...options, connection: { ...options.connection, transportOptions } });
  const conn = new Connection(broker);
  cleanups.push(async () => {
    await conn.deleteQueue(queue).catch(() => undefined);
    // Celery's declaration binds the queue to an exchange of its own name.
    await conn.deleteExchange(queue).catch(() => undefined);
    await deleteCeleryNames(conn);
    await conn.close();
    await app.close();
  });
  return {
    app,
    queue,
    conn,
    worker: async (o) => {
      const w = app.worker({ concurrency: 2, ...o });
      cleanups.push(() => w.stop());
      await w.start();
      return w;
    },
  };
}
