/** What the page starts from (its live updates come from /dashboard/events): the workers seen, and the server's mode. */
import type { FlowerContext, Route } from './route.js';

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
    { method: 'GET', path: /^\/dashboard\/config$/, run: () => ({ readOnly, backend: app.conf.backend !== undefined }) },
  ];
}
