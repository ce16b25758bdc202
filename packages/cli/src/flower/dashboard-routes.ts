/**
 * What the page reads besides Flower's API (its live updates come from /dashboard/events): the
 * workers seen, a page of the task list with its counts (Flower's /tasks/datatable), the broker's
 * queues with the workers consuming each, the server's mode.
 */
import { NotFoundError } from '@nori/core';
import { knownQueues } from './known-queues.js';
import type { FlowerContext, Route } from './route.js';
import { parseTaskQuery, queryTasks } from './task-query.js';

export function dashboardRoutes({ app, monitor, workers, readOnly, signIn }: FlowerContext): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/dashboard\/workers$/,
      run: () =>
        [...monitor.state.workers.values()].map((w) => ({
          hostname: w.hostname,
          alive: monitor.state.alive(w.hostname),
          active: w.active ?? null,
          processed: w.processed ?? null,
          loadavg: w.loadavg ?? null,
          sw_ident: w.swIdent ?? null,
        })),
    },
    { method: 'GET', path: /^\/dashboard\/tasks$/, run: ({ params }) => queryTasks(monitor.tasks(), parseTaskQuery(params)) },
    {
      // Every queue the app declares or a worker consumes, its ready messages asked of the broker
      // (null: no such queue) and who consumes it.
      method: 'GET',
      path: /^\/dashboard\/broker$/,
      run: async () => {
        const queues = [];
        for (const [name, by] of await knownQueues(app, workers)) {
          const messages = await app.connection.queueStatus(name).then(
            (s) => s.messageCount,
            (error: unknown) => (error instanceof NotFoundError ? null : Promise.reject(error)),
          );
          queues.push({ name, messages, workers: by });
        }
        const { transport, url, alternates } = app.connection.info();
        return { transport, url, alternates, queues };
      },
    },
    {
      method: 'GET',
      path: /^\/dashboard\/config$/,
      run: ({ user }) => ({ readOnly, backend: app.conf.backend !== undefined, user: user === 'anonymous' ? null : (user ?? null), signIn }),
    },
  ];
}
