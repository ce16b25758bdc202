/**
 * ETA on RabbitMQ, which has no native delay. Holding an ETA task unacked until it is due is what
 * Celery does, and it gets the channel closed by RabbitMQ's consumer_timeout (30 min by default)
 * when the ETA is further away. Instead a worker parks such a message in a ladder of delay queues
 * `<queue>.nori.delay.<ms>`, one per power-of-two seconds (1 s ... 2^14 s). Each has one TTL for all
 * of its messages (so none waits behind a longer one) and dead-letters back to `<queue>` through
 * the default exchange. The worker that gets it back parks it again on the largest step that
 * fits the remaining wait, so a message takes about log2(seconds) hops and is never in flight
 * for more than the short in-memory hold before it is due.
 */
import type { QueueSpec } from '@nori/core';

const MAX_STEP_MS = 2 ** 14 * 1000;

/** The largest ladder step (ms) not longer than `waitMs` (>= 1000). */
export function ladderStep(waitMs: number): number {
  if (waitMs >= MAX_STEP_MS) return MAX_STEP_MS;
  return 2 ** Math.floor(Math.log2(Math.max(1000, waitMs) / 1000)) * 1000;
}

/** The delay queue of one step; it expires 5 minutes after its last declare (the worker declares it on each park). */
export function ladderQueue(target: string, stepMs: number): QueueSpec {
  return {
    name: `${target}.nori.delay.${stepMs}`,
    durable: true,
    exclusive: false,
    autoDelete: false,
    messageTtl: stepMs,
    expires: stepMs + 300_000,
    deadLetterExchange: '',
    deadLetterRoutingKey: target,
    arguments: {},
    bindings: [],
  };
}
