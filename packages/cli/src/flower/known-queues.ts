/**
 * The queues the server knows: every queue the app declares or a worker consumes, with the workers
 * consuming each (sorted by name). Workers, not the broker's consumer count: only RabbitMQ counts
 * consumers across processes.
 */
import type { App } from '@nori/tasks';
import type { WorkerInfo } from './worker-info.js';

export async function knownQueues(app: App, workers: WorkerInfo): Promise<Array<[name: string, consumers: string[]]>> {
  const consumers = new Map<string, string[]>([[app.conf.defaultQueue, []], ...app.conf.queues.map((q): [string, string[]] => [q.name, []])]);
  for (const [worker, info] of Object.entries(await workers.get())) {
    for (const q of (info['active_queues'] as Array<{ name?: unknown }> | undefined) ?? []) {
      if (typeof q.name === 'string') consumers.set(q.name, [...(consumers.get(q.name) ?? []), worker]);
    }
  }
  return [...consumers].map(([name, by]): [string, string[]] => [name, by.sort()]).sort(([a], [b]) => a.localeCompare(b));
}
