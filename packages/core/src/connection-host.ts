/**
 * What Producer, Consumer, SimpleQueue and ConsumeIterator need of their Connection. Connection
 * builds one host and hands it to them, so they do not import connection.ts (which imports them),
 * and the plumbing (track, activeTransport, ...) stays off `Connection`'s public type.
 */
import type { Exchange } from './exchange.js';
import type { Logger } from './logger.js';
import type { Queue } from './queue.js';
import type { Transport } from './spi/transport.js';
import type { BrokerUrl } from './url.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface ConnectionHost {
  readonly logger: Logger;
  readonly urls: readonly BrokerUrl[];
  /** The transport, connecting first if needed. */
  transport(): Promise<Transport>;
  /** The transport if connected, else undefined (never connects). */
  activeTransport(): Transport | undefined;
  /** Declare once per transport (Connection.declare). */
  declare(entity: Exchange | Queue): Promise<void>;
  /** Whether this entity object was declared on the current transport. */
  isDeclared(entity: Exchange | Queue): boolean;
  queueSize(queue: Queue): Promise<number>;
  purge(queue: Queue): Promise<number>;
  /**
   * Runs `work` with a signal that fires when `signal` does or the connection closes; it then
   * rejects with `AbortError` or `ConnectionClosedError` respectively (a publish's retries).
   */
  untilClosed<T>(signal: AbortSignal | undefined, work: (stop: AbortSignal) => Promise<T>): Promise<T>;
  /** Consumers register so close() can stop them. */
  track(consumer: Stoppable): void;
  untrack(consumer: Stoppable): void;
}
