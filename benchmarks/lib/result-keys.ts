/** The result keys a benchmark side stored on Redis, deleted between runs (untimed) and at the end: a run leaves none behind. */
import type { Redis } from 'ioredis';

export class ResultKeys {
  #ids: string[] = [];

  /** `results`: a client on the results database. */
  constructor(readonly results: Redis) {}

  track(id: string): void {
    this.#ids.push(id);
  }

  async clean(): Promise<void> {
    for (let i = 0; i < this.#ids.length; i += 1000) await this.results.unlink(...this.#ids.slice(i, i + 1000).map((id) => `celery-task-meta-${id}`));
    this.#ids = [];
  }
}
