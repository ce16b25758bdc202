/**
 * Celery's canvas on the wire (celery/canvas.py, protocol v2's embed): a chain sends its first
 * task with the rest in `chain` (reversed: the worker pops the next one), so every step can run
 * on any worker, nori or Python; a group sends its tasks with one group id and their indexes; a
 * chord sends its header as a group whose tasks carry the body in `chord`. Every task id is fixed
 * before anything is sent, so the results are known up front.
 */
import { randomUUID } from 'node:crypto';
import type { Signature, SignatureResult } from '../protocol/message.js';
import type { AsyncResult, ResultGetOptions } from '../result/async-result.js';
import { applySignature, freeze, frozenId, type SignatureSender } from './signature.js';

/** What a canvas needs from the App it is sent with (an App is one). */
export interface CanvasApp extends SignatureSender {
  /** The reply queue of this caller (rpc:// results of every task of the canvas go there). */
  readonly oid: string;
  result<R>(id: string): AsyncResult<R>;
  /** Before a chord's header is sent (Celery's apply_chord): the chord size on Redis, a chord_unlock task elsewhere. */
  prepareChord(groupId: string, headerIds: readonly string[], body: Signature): Promise<void>;
}

export interface CanvasApplyOptions {
  /** Arguments prepended to the first task's (a chain) or every task's (a group, a chord header). */
  args?: readonly unknown[];
}

/** The last element of a tuple (of an array: any element). */
type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L] ? L : T[number];

/** Tasks run one after another, each getting the previous one's result (unless immutable); `R` is the last one's result. */
export class Chain<R = unknown> {
  readonly tasks: readonly Signature[];

  constructor(tasks: readonly Signature[]) {
    if (tasks.length === 0) throw new TypeError('a chain needs at least one task');
    this.tasks = tasks;
  }

  /** Sends the first task; resolves with the last task's result (`T` may only narrow it, as for a step called by name). */
  async applyAsync<T extends R = R>(app: CanvasApp, options: CanvasApplyOptions = {}): Promise<AsyncResult<T>> {
    const steps = this.tasks.map((t) => freeze(t, app.oid));
    const [first, ...rest] = steps as [Signature, ...Signature[]];
    const rootId = frozenId(first) as string;
    await applySignature(app, first, options.args, { rootId, ...(rest.length > 0 && { chain: [...rest].reverse() }) });
    return app.result<T>(frozenId(steps.at(-1) as Signature) as string);
  }
}

/** The results of a group, in the group's order. */
export class GroupResult<R = unknown> {
  constructor(
    readonly id: string,
    readonly results: ReadonlyArray<AsyncResult<R>>,
  ) {}

  /** Every result, in order; rejects with the first failure. */
  get(options: ResultGetOptions = {}): Promise<R[]> {
    return Promise.all(this.results.map((r) => r.get({ ...options, propagate: true })));
  }

  async ready(): Promise<boolean> {
    return (await Promise.all(this.results.map((r) => r.ready()))).every(Boolean);
  }

  async completedCount(): Promise<number> {
    return (await Promise.all(this.results.map((r) => r.successful()))).filter(Boolean).length;
  }
}

/** Tasks run in parallel under one group id; `R` is their results' type (a union when they differ). */
export class Group<R = unknown> {
  readonly tasks: readonly Signature[];

  constructor(tasks: readonly Signature[]) {
    this.tasks = tasks;
  }

  async applyAsync<T extends R = R>(app: CanvasApp, options: CanvasApplyOptions & { groupId?: string; chord?: Signature } = {}): Promise<GroupResult<T>> {
    const groupId = options.groupId ?? randomUUID();
    const tasks = this.tasks.map((t) => freeze(t, app.oid));
    const results = await Promise.all(
      tasks.map((sig, i) => applySignature<T>(app, sig, options.args, { group: groupId, groupIndex: i, ...(options.chord && { chord: options.chord }) })),
    );
    return new GroupResult<T>(groupId, results);
  }
}

/** A group whose results, in order, go to one body task once all have succeeded; `R` is the body's result. */
export class Chord<R = unknown> {
  readonly header: Group;
  readonly body: Signature<R>;

  constructor(header: Group | readonly Signature[], body: Signature<R>) {
    this.header = header instanceof Group ? header : new Group(header);
    this.body = body;
  }

  /** Sends the header; resolves with the body's result (`T` may only narrow it). */
  async applyAsync<T extends R = R>(app: CanvasApp, options: CanvasApplyOptions = {}): Promise<AsyncResult<T>> {
    const groupId = randomUUID();
    const body: Signature = { ...freeze(this.body, app.oid), chord_size: this.header.tasks.length };
    const bodyId = frozenId(body) as string;
    if (this.header.tasks.length === 0) {
      await applySignature(app, body, [[]]);
      return app.result<T>(bodyId);
    }
    const header = new Group(this.header.tasks.map((t) => freeze(t, app.oid)));
    await app.prepareChord(
      groupId,
      header.tasks.map((t) => frozenId(t) as string),
      body,
    );
    await header.applyAsync(app, { ...options, groupId, chord: body });
    return app.result<T>(bodyId);
  }
}

/** At least one step; the chain's result is typed by its last. */
export const chain = <S extends readonly [Signature, ...Signature[]]>(...tasks: S): Chain<SignatureResult<Last<S>>> => new Chain(tasks);
/** The group's results are typed by its members. */
export const group = <S extends readonly Signature[]>(...tasks: S): Group<SignatureResult<S[number]>> => new Group(tasks);
/** The chord's result is typed by its body. */
export const chord = <R>(header: Group | readonly Signature[], body: Signature<R>): Chord<R> => new Chord(header, body);
