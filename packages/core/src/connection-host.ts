/**
 * The plumbing Producer and Consumer use on their Connection, kept off `Connection`'s public type:
 * a Connection registers its host here when it is made, and only core's own files look it up.
 */
import type { Exchange } from './exchange.js';
import type { Queue } from './queue.js';
import type { Transport } from './spi/transport.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface ConnectionHost {
  /** The transport if connected, else undefined (never connects). */
  activeTransport(): Transport | undefined;
  /** Whether this entity object was declared on the current transport. */
  isDeclared(entity: Exchange | Queue): boolean;
  /** Consumers register so close() can stop them. */
  track(consumer: Stoppable): void;
  untrack(consumer: Stoppable): void;
}

const hosts = new WeakMap<object, ConnectionHost>();

export function setHost(connection: object, host: ConnectionHost): void {
  hosts.set(connection, host);
}

export function hostOf(connection: object): ConnectionHost {
  const host = hosts.get(connection);
  if (!host) throw new TypeError('not a nori Connection');
  return host;
}
