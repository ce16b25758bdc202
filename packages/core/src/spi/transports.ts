/**
 * The transport registry: URL scheme → transport factory. Core never imports a transport package;
 * the first URL with a scheme of a known package loads it lazily, and the package registers
 * itself on import. A package that is not installed is an error naming the install command.
 */
import { TransportNotInstalledError, UnknownSchemeError } from '../errors.js';
import { importPackage } from '../load-package.js';
import type { TransportFactory } from './transport.js';

const factories = new Map<string, TransportFactory>();

/** Schemes served by packages that may or may not be installed. */
const packages = new Map<string, string>([
  ['amqp', '@nori/amqp'],
  ['amqps', '@nori/amqp'],
  ['pyamqp', '@nori/amqp'],
  ['redis', '@nori/redis'],
  ['rediss', '@nori/redis'],
  ['redis+socket', '@nori/redis'],
  ['redis+cluster', '@nori/redis'],
  ['sentinel', '@nori/redis'],
  ['mongodb', '@nori/mongodb'],
  ['mongodb+srv', '@nori/mongodb'],
]);

export function registerTransport(schemes: readonly string[], factory: TransportFactory): void {
  for (const scheme of schemes) factories.set(scheme, factory);
}

/** Tell nori which package serves a scheme, so `new Connection('x://')` can load it. */
export function registerTransportPackage(scheme: string, packageName: string): void {
  packages.set(scheme, packageName);
}

export function knownSchemes(): string[] {
  return [...new Set([...factories.keys(), ...packages.keys()])].sort();
}

export async function loadTransport(scheme: string): Promise<TransportFactory> {
  const existing = factories.get(scheme);
  if (existing) return existing;
  const name = packages.get(scheme);
  if (!name) throw new UnknownSchemeError(scheme, knownSchemes());
  if (!(await importPackage(name))) throw new TransportNotInstalledError(scheme, name);
  const loaded = factories.get(scheme);
  if (!loaded) throw new TransportNotInstalledError(scheme, name);
  return loaded;
}
