/**
 * What a task's outcome sends on (Celery's trace.py and Task.retry): the retry message, the link
 * callbacks and the chain's next step on success, the link_error callbacks on failure.
 */
import { signatureOptions } from '../canvas/signature.js';
import type { Retry } from '../errors.js';
import type { Signature, TaskRequest } from '../protocol/message.js';
import type { WorkerHost } from './host.js';
import type { Job } from './job.js';

/** The same task again: same id, retries + 1, at the retry's time; its request's reply queue, limits, group and follow-ups kept. */
export function publishRetry(host: WorkerHost, job: Job, retry: Retry): Promise<unknown> {
  const { request, message } = job;
  const priority = retry.overrides.priority ?? message.properties.priority;
  return host.send(
    request.name,
    request.args,
    request.kwargs,
    {
      taskId: request.id,
      ...(request.replyTo !== undefined && { replyTo: request.replyTo }),
      retries: request.retries + 1,
      eta: retry.when,
      ...(request.expires && { expires: request.expires }),
      queue: retry.overrides.queue ?? message.queue,
      ...(priority !== undefined && { priority }),
      ...(request.timeLimit !== undefined && { timeLimit: request.timeLimit }),
      ...(request.softTimeLimit !== undefined && { softTimeLimit: request.softTimeLimit }),
      rootId: request.rootId,
      ...(request.parentId !== null && { parentId: request.parentId }),
      ...(request.group !== null && { group: request.group }),
      ...(request.groupIndex !== null && { groupIndex: request.groupIndex }),
      ...(request.embed.callbacks && { link: request.embed.callbacks }),
      ...(request.embed.errbacks && { linkError: request.embed.errbacks }),
      ...(request.embed.chain && { chain: request.embed.chain }),
      ignoreResult: request.ignoreResult,
      argsrepr: request.argsrepr,
      kwargsrepr: request.kwargsrepr,
    },
    job.task,
  );
}

/** link callbacks and the next step of a chain get the result prepended (unless immutable). */
export function sendCallbacks(host: WorkerHost, request: TaskRequest, result: unknown, report: (error: Error) => void): Promise<void> {
  const chain = request.embed.chain ? [...request.embed.chain] : [];
  const next = chain.pop();
  const sends = [...(request.embed.callbacks ?? []), ...(next ? [next] : [])].map((sig) =>
    sendSignature(host, request, sig, sig.immutable ? (sig.args ?? []) : [result, ...(sig.args ?? [])], sig === next && chain.length > 0 ? chain : undefined),
  );
  return settleAll(sends, report);
}

/** link_error callbacks get the failed task's id prepended (Celery's old-style errbacks). */
export function sendErrbacks(host: WorkerHost, request: TaskRequest, report: (error: Error) => void): Promise<void> {
  const sends = (request.embed.errbacks ?? []).map((sig) =>
    sendSignature(host, request, sig, sig.immutable ? (sig.args ?? []) : [request.id, ...(sig.args ?? [])], undefined),
  );
  return settleAll(sends, report);
}

function sendSignature(host: WorkerHost, parent: TaskRequest, sig: Signature, args: readonly unknown[], chain: Signature[] | undefined): Promise<unknown> {
  return host.send(
    sig.task,
    args,
    sig.kwargs,
    { ...signatureOptions(sig), parentId: parent.id, rootId: parent.rootId, ...(chain && { chain }) },
    host.tasks.get(sig.task),
  );
}

async function settleAll(promises: Promise<unknown>[], report: (error: Error) => void): Promise<void> {
  for (const r of await Promise.allSettled(promises)) if (r.status === 'rejected') report(r.reason as Error);
}
