/**
 * Flower's worker API (flower/api/workers.py, and the worker routes of flower/api/control.py):
 * same routes, arguments, response messages and status codes. A control goes to the one worker
 * named in the path (404 if none such was seen); a refusal or no reply is Flower's 403 with the reason.
 */
import { HttpError } from '../errors.js';
import { type FlowerContext, intParam, okOf, required, requiredInt, type Route, type RouteRequest, truthy } from './route.js';

export function workerRoutes({ app, monitor, workers }: FlowerContext): Route[] {
  const worker = (r: RouteRequest): string => {
    const name = r.match[1]!;
    if (!workers.knows(name)) throw new HttpError(404, `Unknown worker '${name}'`);
    return name;
  };
  const to = (name: string): { destination: string[]; reply: true } => ({ destination: [name], reply: true });
  const control = (path: RegExp, run: (name: string, r: RouteRequest) => Promise<string>): Route => ({
    method: 'POST',
    path,
    change: true,
    run: async (r) => ({ message: await run(worker(r), r) }),
  });

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
    control(/^\/api\/worker\/shutdown\/(.+)$/, async (name) => {
      await app.control.shutdown({ destination: [name] });
      return 'Shutting down!';
    }),
    control(/^\/api\/worker\/pool\/restart\/(.+)$/, async (name) => {
      okOf(await app.control.request('pool_restart', { reload: false }, to(name)), name, (why) => `Failed to restart the '${name}' pool: ${why}`);
      return `Restarting '${name}' worker's pool`;
    }),
    control(/^\/api\/worker\/pool\/grow\/(.+)$/, async (name, { params }) => {
      const n = intParam(params, 'n', 1)!;
      okOf(await app.control.poolGrow(n, to(name)), name, (why) => `Failed to grow '${name}' worker's pool: ${why}`);
      return `Growing '${name}' worker's pool by ${n}`;
    }),
    control(/^\/api\/worker\/pool\/shrink\/(.+)$/, async (name, { params }) => {
      const n = intParam(params, 'n', 1)!;
      okOf(await app.control.poolShrink(n, to(name)), name, (why) => `Failed to shrink '${name}' worker's pool: ${why}`);
      return `Shrinking '${name}' worker's pool by ${n}`;
    }),
    control(/^\/api\/worker\/pool\/autoscale\/(.+)$/, async (name, { params }) => {
      const min = requiredInt(params, 'min');
      const max = requiredInt(params, 'max');
      okOf(await app.control.request('autoscale', { min, max }, to(name)), name, (why) => `Failed to autoscale '${name}' worker: ${why}`);
      return `Autoscaling '${name}' worker (min=${min}, max=${max})`;
    }),
    control(/^\/api\/worker\/queue\/add-consumer\/(.+)$/, async (name, { params }) => {
      const queue = required(params, 'queue');
      return okOf(await app.control.addConsumer(queue, to(name)), name, (why) => `Failed to add '${queue}' consumer to '${name}' worker: ${why}`);
    }),
    control(/^\/api\/worker\/queue\/cancel-consumer\/(.+)$/, async (name, { params }) => {
      const queue = required(params, 'queue');
      return okOf(await app.control.cancelConsumer(queue, to(name)), name, (why) => `Failed to cancel '${queue}' consumer from '${name}' worker: ${why}`);
    }),
  ];
}
