/**
 * What crosses the thread boundary for one task run: the call going in, the outcome coming back.
 * Errors are flattened to plain fields (structured clone keeps neither classes nor extra fields)
 * and rebuilt on the main thread; a Retry comes back as its time.
 */
import type { DeliveryDetails } from '../../context.js';

export interface ThreadCall {
  url: string;
  exportName: string;
  args: unknown[];
  context: {
    id: string;
    name: string;
    kwargs: Record<string, unknown>;
    retries: number;
    rootId: string;
    parentId: string | null;
    group: string | null;
    origin: string | null;
    hostname: string;
    deliveryInfo: DeliveryDetails;
    maxRetries: number | null;
    defaultRetryDelay: number;
  };
}

export interface ThreadError {
  name: string;
  message: string;
  stack: string | undefined;
  excType?: string;
  excModule?: string | null;
  /** Set when the task called retry(): epoch ms of the retry. */
  retryAt?: number;
  retryQueue?: string;
  retryPriority?: number;
  retryExc?: { name: string; message: string; stack: string | undefined };
}

export type ThreadOutcome = { ok: true; value: unknown; tasksRun: number } | { ok: false; error: ThreadError; tasksRun: number };
