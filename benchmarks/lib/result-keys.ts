/** The result keys a benchmark side stored on Redis, deleted between runs (untimed) and at the end: a run leaves none behind. */
import type { Redis } from 'ioredis';

export class ResultKeys {
  #fresh: string[] = [];
  #cleaned: string[] = [];

  /** `results`: a client on the results database. */
  constructor(readonly results: Redis) {}

  track(id: string): void {
    this.#fresh.push(id);
  }

  /** Deletes the results of the tasks tracked since the last clean. */
  async clean(): Promise<void> {
    await this.#unlink(this.#fresh);
    this.#cleaned = this.#cleaned.concat(this.#fresh);
    this.#fresh = [];
  }

  /** Deletes every tracked task's result once more, after its worker stopped: a task still running at its clean stored one later. */
  async cleanAll(): Promise<void> {
    await this.clean();
    await this.#unlink(this.#cleaned);
  }

  async #unlink(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) await this.results.unlink(...ids.slice(i, i + 1000).map((id) => `celery-task-meta-${id}`));
  }
}
