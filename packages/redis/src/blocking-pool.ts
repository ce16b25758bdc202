/**
 * Connections for the store's idle wait: BLMOVE blocks its connection, so each concurrent wait
 * takes one of its own, reused afterwards; an abort disconnects the one it blocks.
 */
import type { Cluster, Redis } from 'ioredis';
import { disconnectClient, duplicateClient } from './client.js';

export class BlockingPool {
  readonly #source: Redis | Cluster;
  readonly #idle: Array<Redis | Cluster> = [];
  readonly #busy = new Set<Redis | Cluster>();
  #closed = false;

  constructor(source: Redis | Cluster) {
    this.#source = source;
  }

  /** BLMOVE `key` onto itself (the list stays as it was) for at most `seconds`, or until `signal` aborts. */
  async blockOn(key: string, seconds: number, signal: AbortSignal): Promise<void> {
    const client = this.#idle.pop() ?? duplicateClient(this.#source);
    this.#busy.add(client);
    const onAbort = (): void => disconnectClient(client);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.blmove(key, key, 'RIGHT', 'RIGHT', seconds);
    } catch (error) {
      if (!signal.aborted && !this.#closed) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#busy.delete(client);
      if (signal.aborted || this.#closed) disconnectClient(client);
      else this.#idle.push(client);
    }
  }

  close(): void {
    this.#closed = true;
    for (const client of [...this.#idle, ...this.#busy]) disconnectClient(client);
  }
}
