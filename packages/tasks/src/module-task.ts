/**
 * A task whose handler is a module's export, so the thread pool can load it in a worker thread
 * (closures cannot cross threads). `moduleTask<typeof fib>(new URL('./fib.js', import.meta.url), 'fib')`
 * is typed as the export itself; outside the thread pool it runs on the calling thread.
 */
import type { TaskHandler } from './task.js';

const MODULE = Symbol('nori.moduleTask');

export interface ModuleRef {
  /** file: URL of the module. */
  readonly url: string;
  readonly exportName: string;
}

export function moduleTask<F extends TaskHandler>(url: URL | string, exportName = 'default'): F {
  const ref: ModuleRef = { url: String(url), exportName };
  const handler = async (...args: unknown[]): Promise<unknown> => {
    const mod = (await import(ref.url)) as Record<string, unknown>;
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw new TypeError(`${ref.url} has no function export "${exportName}"`);
    return (fn as (...a: unknown[]) => unknown)(...args);
  };
  return Object.assign(handler, { [MODULE]: ref }) as unknown as F;
}

/** The module behind a handler made by `moduleTask`, if it is one. */
export function moduleOf(handler: TaskHandler): ModuleRef | undefined {
  return (handler as unknown as { [MODULE]?: ModuleRef })[MODULE];
}
