/**
 * A small typed event emitter. Unlike node:events it never throws on an unheard 'error': nori
 * prints nothing on its own, so errors nobody listens to go to the logger instead.
 */
import type { Logger } from './logger.js';

export type EventMap = Record<string, unknown[]>;

type Listener = (...args: unknown[]) => void;

export class Emitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<Listener>>();

  constructor(protected readonly logger?: Logger) {}

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as unknown as Listener);
    return this;
  }

  once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const wrapped = (...args: Events[E]): void => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    this.#listeners.get(event)?.delete(listener as unknown as Listener);
    return this;
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) {
      if (event === 'error') this.logger?.error({ err: args[0] }, 'unhandled nori error');
      return;
    }
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        this.logger?.error({ err: error, event }, 'nori event listener threw');
      }
    }
  }
}
