/**
 * Where a task goes: Celery's task_routes (name globs → queue or route, or router functions,
 * first match wins), then the task's own route, then the default queue.
 */

export interface Route {
  queue?: string;
  exchange?: string;
  routingKey?: string;
  priority?: number;
}

export type Router = (name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => Route | string | undefined;

/** `{ 'proj.math.*': 'math', 'proj.io.*': { queue: 'io', priority: 5 } }`, a router, or a list of both. */
export type TaskRoutes = Readonly<Record<string, Route | string>> | Router | ReadonlyArray<Readonly<Record<string, Route | string>> | Router>;

/** fnmatch as Celery uses it for route globs: `*` any run of characters, `?` one. */
function globToRegExp(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

type CompiledRouter = (name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => Route | undefined;

const asRoute = (r: Route | string | undefined): Route | undefined => (typeof r === 'string' ? { queue: r } : r);

function compileOne(entry: Readonly<Record<string, Route | string>> | Router): CompiledRouter {
  if (typeof entry === 'function') return (name, args, kwargs) => asRoute(entry(name, args, kwargs));
  const exact = new Map<string, Route>();
  const globs: Array<[RegExp, Route]> = [];
  for (const [pattern, route] of Object.entries(entry)) {
    const r = asRoute(route) as Route;
    if (/[*?]/.test(pattern)) globs.push([globToRegExp(pattern), r]);
    else exact.set(pattern, r);
  }
  return (name) => exact.get(name) ?? globs.find(([re]) => re.test(name))?.[1];
}

export function compileRoutes(routes: TaskRoutes | undefined): CompiledRouter {
  if (routes === undefined) return () => undefined;
  const list = (Array.isArray(routes) ? routes : [routes]).map(compileOne);
  return (name, args, kwargs) => {
    for (const router of list) {
      const route = router(name, args, kwargs);
      if (route) return route;
    }
    return undefined;
  };
}
