/**
 * Celery's task message, protocol v2 on the way out (celery/app/amqp.py `as_task_v2`), v2 and v1
 * on the way in (v1 read as Celery 5's `proto1_to_proto2` does). Seconds and ISO dates exist only
 * here; everything above speaks milliseconds and Dates.
 */
import type { Headers, MessageProperties } from '@nori/core';
import { InvalidTaskError } from '../errors.js';
import { argsRepr, kwargsRepr } from './repr.js';
import { fromWireTime, toWireTime } from './time.js';

/** The key of a signature's result type: declared for the type checker only, it exists nowhere at run time. */
declare const RESULT: unique symbol;

/**
 * A task call as Celery embeds it in callbacks, errbacks and chains (a serialized `Signature`).
 * `R` is the result of the task it calls (`task.s()` knows it; one made by name is `unknown`
 * unless given), which types what a canvas resolves with.
 */
export interface Signature<R = unknown> {
  task: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** apply_async options in Celery's spelling (queue, routing_key, priority, countdown, ...). */
  options?: Record<string, unknown>;
  subtask_type?: string | null;
  immutable?: boolean;
  chord_size?: number | null;
  /** Type only: never set, never sent. */
  readonly [RESULT]?: R;
}

/** The result type of a signature's task. */
export type SignatureResult<S> = S extends Signature<infer R> ? R : never;

/** The third body element: what runs after the task. */
export interface Embed {
  callbacks: Signature[] | null;
  errbacks: Signature[] | null;
  /** Remaining chain in reverse order: the worker sends the last one next. */
  chain: Signature[] | null;
  chord: Signature | null;
}

/** A received task, whatever protocol it came in. Durations in ms. */
export interface TaskRequest {
  readonly id: string;
  readonly name: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  readonly embed: Embed;
  readonly retries: number;
  readonly eta: Date | undefined;
  readonly expires: Date | undefined;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly group: string | null;
  readonly groupIndex: number | null;
  readonly timeLimit: number | undefined;
  readonly softTimeLimit: number | undefined;
  readonly origin: string | null;
  readonly ignoreResult: boolean;
  readonly replyTo: string | undefined;
  readonly correlationId: string | undefined;
  readonly argsrepr: string;
  readonly kwargsrepr: string;
  readonly lang: string;
  readonly shadow: string | null;
  readonly protocol: 1 | 2;
}

/** What the sender knows about a call; `taskMessage` turns it into headers and body. */
export interface TaskCall {
  id: string;
  name: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  embed?: Partial<Embed>;
  retries?: number;
  eta?: Date;
  expires?: Date;
  rootId?: string;
  parentId?: string | null;
  group?: string | null;
  groupIndex?: number | null;
  timeLimit?: number;
  softTimeLimit?: number;
  origin: string;
  ignoreResult?: boolean;
  argsrepr?: string;
  kwargsrepr?: string;
  shadow?: string | null;
  /** IANA zone eta/expires are written in (Celery's `timezone`). */
  timezone: string;
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : ms / 1000);

function ms(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
}

/** Headers of a protocol v2 message, in as_task_v2's order. */
export function taskHeaders(call: TaskCall): Headers {
  return {
    lang: 'py',
    task: call.name,
    id: call.id,
    shadow: call.shadow ?? null,
    eta: call.eta ? toWireTime(call.eta, call.timezone) : null,
    expires: call.expires ? toWireTime(call.expires, call.timezone) : null,
    group: call.group ?? null,
    group_index: call.groupIndex ?? null,
    retries: call.retries ?? 0,
    timelimit: [seconds(call.timeLimit), seconds(call.softTimeLimit)],
    root_id: call.rootId ?? call.id,
    parent_id: call.parentId ?? null,
    argsrepr: call.argsrepr ?? argsRepr(call.args),
    kwargsrepr: call.kwargsrepr ?? kwargsRepr(call.kwargs),
    origin: call.origin,
    ignore_result: call.ignoreResult ?? false,
  };
}

/** `[args, kwargs, embed]`. */
export function taskBody(call: TaskCall): [readonly unknown[], Readonly<Record<string, unknown>>, Embed] {
  const e = call.embed ?? {};
  return [call.args, call.kwargs, { callbacks: e.callbacks ?? null, errbacks: e.errbacks ?? null, chain: e.chain ?? null, chord: e.chord ?? null }];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

function signatures(value: unknown): Signature[] | null {
  if (!Array.isArray(value)) return null;
  return value.filter((s): s is Signature => isRecord(s) && typeof s['task'] === 'string');
}

/** The embed of most tasks (Celery sends every field null): one frozen object, not one per message. */
const NO_EMBED: Embed = Object.freeze({ callbacks: null, errbacks: null, chain: null, chord: null });

function embedOf(value: unknown): Embed {
  if (!isRecord(value)) return NO_EMBED;
  const chord = value['chord'];
  const embed: Embed = {
    callbacks: signatures(value['callbacks']),
    errbacks: signatures(value['errbacks']),
    chain: signatures(value['chain']),
    chord: isRecord(chord) && typeof chord['task'] === 'string' ? (chord as unknown as Signature) : null,
  };
  return embed.callbacks || embed.errbacks || embed.chain || embed.chord ? embed : NO_EMBED;
}

/** Celery's `timelimit` header, [hard, soft] in seconds, as ms: one of the two. */
function limit(value: unknown, which: 0 | 1): number | undefined {
  return Array.isArray(value) ? ms(value[which]) : undefined;
}

/** Reads a decoded task message; throws InvalidTaskError when it is neither v2 nor v1. */
export function parseTaskMessage(headers: Headers, body: unknown, properties: MessageProperties): TaskRequest {
  if (typeof headers['task'] === 'string') return parseV2(headers, body, properties);
  if (isRecord(body) && typeof body['task'] === 'string') return parseV1(body, properties);
  throw new InvalidTaskError('not a Celery task message: no "task" header (protocol 2) or body field (protocol 1)');
}

function parseV2(h: Headers, body: unknown, p: MessageProperties): TaskRequest {
  if (!Array.isArray(body) || body.length < 2) throw new InvalidTaskError(`task ${String(h['task'])}: protocol 2 body must be [args, kwargs, embed]`);
  const args: unknown = body[0];
  const kwargs: unknown = body[1];
  if (!Array.isArray(args)) throw new InvalidTaskError(`task ${String(h['task'])}: args must be a list`);
  if (!isRecord(kwargs)) throw new InvalidTaskError(`task ${String(h['task'])}: kwargs must be a mapping`);
  const id = str(h['id']);
  if (id === null) throw new InvalidTaskError(`task ${String(h['task'])}: no id header`);
  return {
    id,
    name: h['task'] as string,
    args,
    kwargs,
    embed: embedOf(body[2]),
    retries: int(h['retries']) ?? 0,
    eta: fromWireTime(h['eta']),
    expires: fromWireTime(h['expires']),
    rootId: str(h['root_id']) ?? id,
    parentId: str(h['parent_id']),
    group: str(h['group']),
    groupIndex: int(h['group_index']),
    timeLimit: limit(h['timelimit'], 0),
    softTimeLimit: limit(h['timelimit'], 1),
    origin: str(h['origin']),
    ignoreResult: h['ignore_result'] === true,
    replyTo: str(p.replyTo) ?? undefined,
    correlationId: p.correlationId,
    argsrepr: typeof h['argsrepr'] === 'string' ? h['argsrepr'] : argsRepr(args),
    kwargsrepr: typeof h['kwargsrepr'] === 'string' ? h['kwargsrepr'] : kwargsRepr(kwargs),
    lang: str(h['lang']) ?? 'py',
    shadow: str(h['shadow']),
    protocol: 2,
  };
}

function parseV1(b: Record<string, unknown>, p: MessageProperties): TaskRequest {
  const name = b['task'] as string;
  const id = str(b['id']);
  if (id === null) throw new InvalidTaskError(`task ${name}: protocol 1 body has no id`);
  const args = b['args'] ?? [];
  const kwargs = b['kwargs'] ?? {};
  if (!Array.isArray(args)) throw new InvalidTaskError(`task ${name}: args must be a list`);
  if (!isRecord(kwargs)) throw new InvalidTaskError(`task ${name}: kwargs must be a mapping`);
  return {
    id,
    name,
    args,
    kwargs,
    embed: { ...embedOf(b), chain: null },
    retries: int(b['retries']) ?? 0,
    eta: fromWireTime(b['eta']),
    expires: fromWireTime(b['expires']),
    rootId: id,
    parentId: null,
    group: str(b['taskset']),
    groupIndex: null,
    timeLimit: limit(b['timelimit'], 0),
    softTimeLimit: limit(b['timelimit'], 1),
    origin: null,
    ignoreResult: false,
    replyTo: str(p.replyTo) ?? undefined,
    correlationId: p.correlationId,
    argsrepr: argsRepr(args),
    kwargsrepr: kwargsRepr(kwargs),
    lang: 'py',
    shadow: null,
    protocol: 1,
  };
}
