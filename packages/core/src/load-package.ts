/**
 * Optional nori packages (transports, serializers, compression codecs) register themselves when
 * imported; core imports one by name the first time something asks for what it serves.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const attempts = new Map<string, Promise<boolean>>();

function isModuleNotFound(error: unknown, name: string): boolean {
  const e = error as { code?: string; message?: string };
  // Only the package itself missing: a dependency missing inside it is a broken install, reported as is.
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(`'${name}'`);
}

/**
 * First as core itself would resolve the package (hoisted node_modules), then from the
 * application's directory, which is where pnpm's isolated layout puts it.
 */
async function tryImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch (error) {
    if (!isModuleNotFound(error, name)) throw error;
  }
  let resolved: string;
  try {
    resolved = createRequire(join(process.cwd(), 'package.json')).resolve(name);
  } catch {
    return false;
  }
  await import(pathToFileURL(resolved).href);
  return true;
}

/**
 * Import an optional package once per process. Resolves false when it is not installed; a package
 * that is installed but fails to load rejects with its own error.
 */
export function importPackage(name: string): Promise<boolean> {
  let attempt = attempts.get(name);
  if (!attempt) {
    attempt = tryImport(name);
    attempts.set(name, attempt);
  }
  return attempt;
}
