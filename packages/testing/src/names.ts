/** Unique entity names for one test file, and their removal: the brokers are shared between runs. */
import { randomUUID } from 'node:crypto';
import type { Connection } from '@nori/core';

export class TestNames {
  readonly #names = new Set<string>();

  constructor(readonly prefix: string) {}

  /** `<prefix>-<what>-<8 hex>`, remembered for `deleteAll`. */
  name(what: string): string {
    const name = `${this.prefix}-${what}-${randomUUID().slice(0, 8)}`;
    this.#names.add(name);
    return name;
  }

  /**
   * Deletes every name handed out, as a queue and as an exchange (with its bindings); a name that
   * is not there is skipped. The caller's connection stays open.
   */
  async deleteAll(conn: Connection): Promise<void> {
    const names = [...this.#names];
    this.#names.clear();
    for (const name of names) {
      await conn.deleteQueue(name).catch(() => undefined);
      await conn.deleteExchange(name).catch(() => undefined);
    }
  }
}
