/**
 * Celery's acknowledgement matrix (celery/worker/request.py) as one function, so the worker and
 * the README's table say the same thing. Early-acked messages (acksLate: false) were acked before
 * the task started; for them every outcome settles nothing more.
 */

export type Outcome = 'success' | 'retry' | 'failure' | 'time-limit' | 'worker-lost' | 'reject' | 'reject-requeue' | 'ignore' | 'revoked';

export type Settlement = 'ack' | 'reject' | 'requeue';

export interface AckPolicy {
  acksLate: boolean;
  acksOnFailureOrTimeout: boolean;
  rejectOnWorkerLost: boolean;
}

/** How a late-acked message is settled after `outcome`. */
export function settlementFor(outcome: Outcome, policy: AckPolicy): Settlement {
  switch (outcome) {
    case 'failure':
      return policy.acksOnFailureOrTimeout ? 'ack' : 'reject';
    case 'time-limit':
      return policy.acksOnFailureOrTimeout ? 'ack' : 'requeue';
    case 'worker-lost':
      return policy.rejectOnWorkerLost ? 'requeue' : 'ack';
    case 'reject':
      return 'reject';
    case 'reject-requeue':
      return 'requeue';
    default:
      return 'ack';
  }
}
