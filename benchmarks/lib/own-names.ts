/**
 * What a task benchmark's Apps share so a run leaves nothing behind: this run's own remote-control
 * and event exchanges (nori's Apps and, through the environment, Celery's workers), results kept
 * 10 minutes instead of a day, and the clean-up of a side's queue.
 */
import type { App } from '@nori/tasks';
import { CELERY_NAMES, deleteCeleryNames } from '../../packages/tasks/test/celery-names.js';

export const OWN_NAMES = { ...CELERY_NAMES, resultExpires: 600_000 };

/** Deletes a side's queue, the exchange of its name (Celery's), and the run's control and event exchanges; closes the app. */
export async function leaveNothing(app: App, queue: string): Promise<void> {
  await app.connection.deleteQueue(queue).catch(() => undefined);
  await app.connection.deleteExchange(queue).catch(() => undefined);
  await deleteCeleryNames(app.connection);
  await app.close();
}
