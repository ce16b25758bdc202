/**
 * What the page reads besides Flower's API (its live updates come from /dashboard/events): the
 * workers seen, a page of the task list with its counts (Flower's /tasks/datatable), the server's mode.
 */
import type { FlowerContext, Route } from './route.js';
import { parseTaskQuery, queryTasks } from './task-query.js';

export function dashboardRoutes({ app, monitor, readOnly }: FlowerContext): Route[] {
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
    { method: 'GET', path: /^\/dashboard\/config$/, run: () => ({ readOnly, backend: app.conf.backend !== undefined }) },
  ];
}
