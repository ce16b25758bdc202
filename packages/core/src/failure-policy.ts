/**
 * What a consumer does with a message whose handler threw. With `retry`, the message is
 * republished with its attempt number in a header and a delay (the delayed set of Redis, MongoDB
 * and memory; per-level TTL queues on RabbitMQ), and rejected once the attempts are used up:
 * dead-lettered where the queue has a dead-letter exchange, dropped otherwise, never without an
 * `error` event. Without `retry`, a failed message is requeued once (it comes back marked
 * redelivered) and rejected if it fails again.
 */
import { InvalidArgumentError } from './errors.js';
import type { Headers } from './spi/transport.js';

/** Which attempt a delivery is (1 when absent): set by the retry republish. */
export const ATTEMPT_HEADER = 'x-nori-attempt';

export interface BackoffOptions {
  /** 'exponential' doubles `delay` per attempt; 'fixed' waits `delay` every time. Default 'exponential'. */
  type?: 'exponential' | 'fixed';
  /** First delay in ms. Default 1000. */
  delay?: number;
  /** Cap on one delay in ms. Default 60 000. */
  maxDelay?: number;
  /** Spread each delay over [delay/2, delay] so failed messages do not come back in lockstep. Default true. */
  jitter?: boolean;
}

export interface ConsumerRetryPolicy {
  /** Runs of the handler in all, the first included (≥ 1). */
  attempts: number;
  backoff?: BackoffOptions;
}

export type FailureAction =
  { readonly kind: 'retry'; readonly attempt: number; readonly delay: number } | { readonly kind: 'requeue' } | { readonly kind: 'reject' };

export function attemptOf(headers: Headers): number {
  const n = Number(headers[ATTEMPT_HEADER]);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** Delay in ms before the attempt after failed attempt `failed` (1-based). */
export function retryDelay(failed: number, backoff: Required<BackoffOptions>, random: () => number = Math.random): number {
  const base = Math.min(backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** (failed - 1), backoff.maxDelay);
  return Math.round(backoff.jitter ? base / 2 + (random() * base) / 2 : base);
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`retry.backoff.${name} must be a number of ms >= 0, got ${value}`);
  return value;
}

export class FailurePolicy {
  readonly #attempts: number | undefined;
  readonly #backoff: Required<BackoffOptions>;

  /** `undefined`: requeue once, then reject. `false`: reject at once. */
  constructor(retry: ConsumerRetryPolicy | false | undefined) {
    const b = (retry && retry.backoff) || {};
    this.#backoff = {
      type: b.type ?? 'exponential',
      delay: nonNegative('delay', b.delay ?? 1000),
      maxDelay: nonNegative('maxDelay', b.maxDelay ?? 60_000),
      jitter: b.jitter ?? true,
    };
    if (b.type !== undefined && b.type !== 'exponential' && b.type !== 'fixed')
      throw new InvalidArgumentError(`retry.backoff.type must be 'exponential' or 'fixed', got ${String(b.type)}`);
    if (retry === false) this.#attempts = 1;
    else if (retry) {
      if (!Number.isInteger(retry.attempts) || retry.attempts < 1)
        throw new InvalidArgumentError(`retry.attempts must be a whole number >= 1, got ${retry.attempts}`);
      this.#attempts = retry.attempts;
    }
  }

  decide(headers: Headers, redelivered: boolean): FailureAction {
    if (this.#attempts === undefined) return redelivered ? { kind: 'reject' } : { kind: 'requeue' };
    const failed = attemptOf(headers);
    if (failed >= this.#attempts) return { kind: 'reject' };
    return { kind: 'retry', attempt: failed + 1, delay: retryDelay(failed, this.#backoff) };
  }
}
