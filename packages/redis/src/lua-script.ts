/** A Lua script run by SHA (EVALSHA), loaded on first use and again after a server restart. */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export class LuaScript {
  readonly #sha: string;

  constructor(private readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis | Cluster, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
