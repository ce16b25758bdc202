/**
 * How `-A` finds the App: `-A ./app.js` imports the module (a path, relative to the working
 * directory, or a package name) and takes its default export, else its export named `app`;
 * `-A ./app.js:myApp` names the export. Without `-A`, `-b <url>` (or NORI_BROKER_URL) makes a bare
 * App, enough for commands that only talk to the broker (events, inspect, control, call, purge, flower).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from '@nori/tasks';
import { UsageError } from './errors.js';

export interface AppSource {
  app?: string;
  broker?: string;
  resultBackend?: string;
}

/** Duck-typed, so an App built by another copy of @nori/tasks (e.g. the user's) is accepted. */
function isApp(value: unknown): value is App {
  const v = value as Partial<App> | null;
  return typeof v === 'object' && v !== null && typeof v.worker === 'function' && typeof v.sendTask === 'function' && typeof v.control === 'object';
}

function moduleUrl(spec: string): string {
  return spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec;
}

export async function loadApp(source: AppSource): Promise<App> {
  return (await loadAppModule(source)).app;
}

/** The App and the module it came from (`nori beat` reads the schedule from it); no module without -A. */
export async function loadAppModule(source: AppSource): Promise<{ app: App; exports: Record<string, unknown> }> {
  if (source.app) {
    const colon = source.app.lastIndexOf(':');
    // A Windows drive letter ("C:\...") is not an export name.
    const [path, name] = colon > 1 ? [source.app.slice(0, colon), source.app.slice(colon + 1)] : [source.app, undefined];
    const mod = (await import(moduleUrl(path))) as Record<string, unknown>;
    const candidate = name ? mod[name] : isApp(mod.default) ? mod.default : mod.app;
    if (!isApp(candidate)) {
      throw new UsageError(`${path} exports no App ${name ? `named "${name}"` : 'as its default export or as "app"'}`);
    }
    return { app: candidate, exports: mod };
  }
  const broker = source.broker ?? process.env.NORI_BROKER_URL;
  if (!broker) throw new UsageError('give the app (-A ./app.js) or a broker URL (-b redis://..., or NORI_BROKER_URL)');
  const backend = source.resultBackend ?? process.env.NORI_RESULT_BACKEND;
  return { app: new App({ broker, ...(backend && { backend }) }), exports: {} };
}
