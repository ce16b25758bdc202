/**
 * The one place a worker settles a task message: Celery's acknowledgement matrix
 * (celery/worker/request.py) as one function, so the tracer and the README's table say the same
 * thing, and `settle`, which every path that ends a message goes through (admission, the tracer,
 * a park, a stop). The worker's consumers never settle on its behalf (core's `settle: 'manual'`).
 */
import type { Message } from '@nori/core';

/** How a task ended; `lapsed`: not run again, its lease lapsed more than the worker's `maxLapses` times. */
export type Outcome = 'success' | 'retry' | 'failure' | 'time-limit' | 'worker-lost' | 'lapsed' | 'reject' | 'reject-requeue' | 'ignore' | 'revoked';

export type Settlement = 'ack' | 'reject' | 'requeue';

export interface AckPolicy {
  acksLate: boolean;
  acksOnFailureOrTimeout: boolean;
  rejectOnWorkerLost: boolean;
}

/**
 * How a late-acked message is settled after `outcome`. Early-acked messages (acksLate: false) were
 * acked before the task started; for them every outcome settles nothing more, except `lapsed`
 * (a message that lapsed was never acked: it is rejected whatever the policy).
 */
export function settlementFor(outcome: Outcome, policy: AckPolicy): Settlement {
  switch (outcome) {
    case 'failure':
      return policy.acksOnFailureOrTimeout ? 'ack' : 'reject';
    case 'time-limit':
      return policy.acksOnFailureOrTimeout ? 'ack' : 'requeue';
    case 'worker-lost':
      return policy.rejectOnWorkerLost ? 'requeue' : 'ack';
    case 'lapsed':
    case 'reject':
      return 'reject';
    case 'reject-requeue':
      return 'requeue';
    default:
      return 'ack';
  }
}

/** What settling an already settled message resolves with (no promise per call). */
export const SETTLED: Promise<void> = Promise.resolve();

/**
 * Settles a message unless it already is: ack, reject (dead-letter), requeue, or release (back to
 * the front of its queue, not counted as a delivery: it never ran). A failure is reported, never
 * thrown. Not an async function: it runs once per task, and an async frame and its await cost
 * more than the one `catch` here.
 */
export function settle(message: Message, how: Settlement | 'release', report: (error: Error) => void): Promise<void> {
  if (message.acknowledged) return SETTLED;
  let settling: Promise<void>;
  try {
    settling = how === 'ack' ? message.ack() : how === 'reject' ? message.reject() : how === 'requeue' ? message.requeue() : message.release();
  } catch (error) {
    report(error as Error);
    return SETTLED;
  }
  return settling.catch((error: unknown) => report(error as Error));
}
