/**
 * Celery's autoscaler (`--autoscale max,min`, celery/worker/autoscale.py) for nori's pools: every
 * `interval`, grow by one while every slot is busy (up to max), shrink by one after `idleTicks`
 * ticks with a free slot (down to min, never below 1). Remote control's `autoscale` calls `update`;
 * the worker starts and stops it as one of its steps.
 */
import { setLongTimeout, type LongTimeout } from '@nori/core';
import { TaskConfigError } from '../errors.js';

export interface AutoscaleOptions {
  max: number;
  /** Default 0 (one slot stays: nori's pool never goes below 1). */
  min?: number;
  /** ms between checks. Default 1000 (Celery's keepalive). */
  interval?: number;
  /** Ticks with a free slot before shrinking. Default 5. */
  idleTicks?: number;
}

/** What the autoscaler resizes (the worker). */
export interface Scalable {
  readonly concurrency: number;
  readonly active: number;
  resize(concurrency: number): void;
}

function checked(max: number, min: number): void {
  if (!Number.isInteger(max) || !Number.isInteger(min) || max < 1 || min < 0 || min > max)
    throw new TaskConfigError(`autoscale takes whole numbers with 1 <= max and 0 <= min <= max, got max=${max} min=${min}`);
}

export class Autoscaler {
  readonly #pool: Scalable;
  readonly #interval: number;
  readonly #idleTicks: number;
  #max: number;
  #min: number;
  #idle = 0;
  #timer: LongTimeout | undefined;

  constructor(pool: Scalable, options: AutoscaleOptions) {
    this.#pool = pool;
    this.#max = options.max;
    this.#min = options.min ?? 0;
    checked(this.#max, this.#min);
    this.#interval = options.interval ?? 1000;
    this.#idleTicks = options.idleTicks ?? 5;
  }

  get max(): number {
    return this.#max;
  }

  get min(): number {
    return this.#min;
  }

  /** New bounds (Celery's Autoscaler.update): a max below the pool shrinks it now, a min above grows it now. */
  update(max: number | undefined, min: number | undefined): [max: number, min: number] {
    const nextMax = max ?? this.#max;
    const nextMin = min ?? this.#min;
    checked(nextMax, nextMin);
    this.#max = nextMax;
    this.#min = nextMin;
    const n = this.#pool.concurrency;
    if (n > nextMax) this.#pool.resize(nextMax);
    else if (n < nextMin) this.#pool.resize(nextMin);
    return [nextMax, nextMin];
  }

  start(): Promise<void> {
    this.#schedule();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#timer?.clear();
    this.#timer = undefined;
    return Promise.resolve();
  }

  #schedule(): void {
    this.#timer = setLongTimeout(() => {
      this.#tick();
      this.#schedule();
    }, this.#interval).unref();
  }

  #tick(): void {
    const pool = this.#pool;
    const n = pool.concurrency;
    if (pool.active >= n && n < this.#max) {
      this.#idle = 0;
      pool.resize(n + 1);
    } else if (pool.active < n && n > Math.max(this.#min, 1)) {
      if (++this.#idle >= this.#idleTicks) {
        this.#idle = 0;
        pool.resize(n - 1);
      }
    } else this.#idle = 0;
  }
}
