/**
 * How `-A` finds the App: `-A ./app.js` imports the module (a path, relative to the working
 * directory, or a package name) and takes its default export, else its export named `app`;
 * `-A ./app.js:myApp` names the export. Without `-A`, `-b <url>` (or NORI_BROKER_URL) makes a bare
 * App, enough for commands that only talk to the broker (events, inspect, control, call, purge, flower).
 */
import { existsSync } from 'node:fs';
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

/** A path (relative, absolute, or a file that exists here, as `app/tasks.js`) or a package name. */
function moduleUrl(spec: string): string {
  return spec.startsWith('.') || isAbsolute(spec) || existsSync(spec) ? pathToFileURL(resolve(spec)).href : spec;
}

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Imports the -A module; a TypeScript one that this Node cannot load is a usage error saying how to run it. */
async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(moduleUrl(path))) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.test(path)) {
      throw new UsageError(
        `${path} is TypeScript, which Node ${process.version} does not run by itself: run nori through a loader, ` +
          `node --import tsx $(which nori) -A ${path} ..., or give -A the module built to JavaScript`,
      );
    }
    throw error;
  }
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
    const mod = await importModule(path);
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
