/**
 * Celery signatures as data (the dicts protocol v2 embeds in callbacks, errbacks, chain and chord):
 * making one, reading its options (Celery's snake_case names, seconds) as ApplyOptions, and sending
 * one with the parent's result prepended unless it is immutable.
 */
import { randomUUID } from 'node:crypto';
import type { Signature } from '../protocol/message.js';
import { fromSeconds } from '../protocol/units.js';
import type { AsyncResult } from '../result/async-result.js';
import type { ApplyOptions, Task, TaskHandler, TaskSender } from '../task.js';

/**
 * Celery's `signature(name, args, kwargs, options)`: a call to any task by name (Python's too);
 * `signature<R>(...)` states what that task returns, for the canvas it ends.
 */
export function signature<R = unknown>(
  task: string,
  args: readonly unknown[] = [],
  kwargs: Readonly<Record<string, unknown>> = {},
  options: Readonly<Record<string, unknown>> = {},
): Signature<R> {
  return { task, args: [...args], kwargs: { ...kwargs }, options: { ...options }, subtask_type: null, immutable: false, chord_size: null };
}

const asSignatures = (v: unknown): Signature[] | undefined =>
  Array.isArray(v) ? (v as Signature[]) : v && typeof v === 'object' ? [v as Signature] : undefined;

/** A signature's options (Celery's names and units) as ApplyOptions. */
export function signatureOptions(sig: Signature): ApplyOptions {
  const o = sig.options ?? {};
  const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const text = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const countdown = num('countdown');
  const link = asSignatures(o['link']);
  const linkError = asSignatures(o['link_error']);
  return {
    ...(text('queue') !== undefined && { queue: text('queue') }),
    ...(text('routing_key') !== undefined && { routingKey: text('routing_key') }),
    ...(text('exchange') !== undefined && { exchange: text('exchange') }),
    ...(num('priority') !== undefined && { priority: num('priority') }),
    ...(countdown !== undefined && { countdown: fromSeconds(countdown) }),
    ...(text('task_id') !== undefined && { taskId: text('task_id') }),
    ...(text('reply_to') !== undefined && { replyTo: text('reply_to') }),
    ...(link && { link }),
    ...(linkError && { linkError }),
  };
}

/** What sending a signature needs: the App's send, and its tasks to find the one named. */
export interface SignatureSender extends TaskSender {
  readonly tasks: ReadonlyMap<string, Task<TaskHandler>>;
}

/** Send a signature: `partial` (a parent's result) goes before its args unless it is immutable; `extra` over its options. */
export function applySignature<R = unknown>(
  sender: SignatureSender,
  sig: Signature,
  partial: readonly unknown[] = [],
  extra: ApplyOptions = {},
): Promise<AsyncResult<R>> {
  const args = sig.immutable ? (sig.args ?? []) : [...partial, ...(sig.args ?? [])];
  return sender.send<R>(sig.task, args, sig.kwargs, { ...signatureOptions(sig), ...extra }, sender.tasks.get(sig.task));
}

/**
 * Frozen as Celery's Signature.freeze does: a task id fixed in its options (kept if it has one),
 * so its result is known before it runs, and the caller's reply queue, so an rpc:// result goes
 * to the caller from whichever worker sends the task (a chain's next step, a chord's body).
 */
export function freeze<S extends Signature>(sig: S, replyTo: string): S {
  const o = sig.options ?? {};
  if (typeof o['task_id'] === 'string' && typeof o['reply_to'] === 'string') return sig;
  return { ...sig, options: { ...o, task_id: typeof o['task_id'] === 'string' ? o['task_id'] : randomUUID(), reply_to: o['reply_to'] ?? replyTo } };
}

/** The caller's reply queue stamped on a signature that names none (a link callback sent later by a worker). */
export function withReplyTo<S extends Signature>(sig: S, replyTo: string): S {
  return typeof sig.options?.['reply_to'] === 'string' ? sig : { ...sig, options: { ...sig.options, reply_to: replyTo } };
}

/** The id a signature was frozen with. */
export const frozenId = (sig: Signature): string | undefined => (typeof sig.options?.['task_id'] === 'string' ? (sig.options['task_id'] as string) : undefined);
