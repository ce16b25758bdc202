/**
 * Flower's worker API (flower/api/workers.py, and the worker routes of flower/api/control.py):
 * same routes, arguments, response shapes and status codes.
 */
import { HttpError } from '../errors.js';
import { type FlowerContext, type Route, truthy } from './route.js';

export function workerRoutes({ monitor, workers }: FlowerContext): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/workers$/,
      run: async ({ params }) => {
        const name = params.get('workername');
        if (truthy(params.get('status'))) return Object.fromEntries([...monitor.state.workers.keys()].map((h) => [h, monitor.state.alive(h)]));
        const info = await workers.get(truthy(params.get('refresh')));
        if (!name) return info;
        if (!info[name]) throw new HttpError(404, `Unknown worker '${name}'`);
        return { [name]: info[name] };
      },
    },
  ];
}
