/**
 * Redis and MongoDB backends use their transport package's client construction, loaded on first
 * use (an application installs only what it uses); a missing package names the install command.
 */
import { BackendNotInstalledError } from './errors.js';

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes(packageName);
}

export async function importOptional<T>(scheme: string, packageName: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isModuleNotFound(error, packageName)) throw new BackendNotInstalledError(scheme, packageName, { cause: error });
    throw error;
  }
}
