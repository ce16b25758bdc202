/**
 * What a task's outcome sends on, on memory:// (process-local, fast): the retry message keeps the
 * request (id, reply queue, expires, limits, ids, group, follow-ups, reprs, queue and priority)
 * unless the retry names another queue or priority; link callbacks and the chain's next step get
 * the result first, link_error callbacks the failed task's id, immutable ones neither.
 */
import { afterEach, expect, it } from 'vitest';
import { currentTask, type AppOptions, type TaskRequest } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const setup = (options: AppOptions = {}) => testbed('memory://', { backend: 'memory://', queueMaxPriority: 9, ...options });

/** What a retried run keeps of the request, as the worker received it. */
const kept = (r: TaskRequest) => ({
  id: r.id,
  name: r.name,
  args: r.args,
  kwargs: r.kwargs,
  expires: r.expires?.toISOString(),
  timeLimit: r.timeLimit,
  softTimeLimit: r.softTimeLimit,
  rootId: r.rootId,
  parentId: r.parentId,
  group: r.group,
  groupIndex: r.groupIndex,
  callbacks: r.embed.callbacks,
  errbacks: r.embed.errbacks,
  chain: r.embed.chain,
  ignoreResult: r.ignoreResult,
  replyTo: r.replyTo,
  argsrepr: r.argsrepr,
  kwargsrepr: r.kwargsrepr,
});

it('a retry sends the same request again with retries + 1 at its ETA, on the same queue and priority', async () => {
  const { app, worker, queue } = setup();
  const runs: Array<{ queue: string; priority: number | undefined }> = [];
  const noop = app.task('fu.noop', () => undefined);
  const again = app.task(
    'fu.again',
    (_a: number, _b: string) => {
      const ctx = currentTask();
      runs.push({ queue: ctx.deliveryInfo.queue, priority: ctx.deliveryInfo.priority });
      return ctx.retries === 0 ? ctx.retry({ countdown: 50 }) : ctx.retries;
    },
    { params: ['a', 'b', '**kw'] },
  );
  const w = await worker();
  const received: TaskRequest[] = [];
  w.on('task-received', (r) => {
    if (r.name === 'fu.again') received.push(r);
  });
  const expires = new Date(Date.now() + 60_000);
  const options = {
    expires,
    timeLimit: 4000,
    softTimeLimit: 3000,
    priority: 3,
    replyTo: 'fu-replies',
    rootId: 'root-1',
    parentId: 'parent-1',
    group: 'group-1',
    groupIndex: 2,
    link: [noop.si([])],
    linkError: [noop.si([])],
    chain: [noop.si([]), noop.si([])],
    ignoreResult: true,
    argsrepr: '(1, "x")',
    kwargsrepr: '{"k": 1}',
  };
  const sent = await again.applyAsync([1, 'x'], { k: 1 }, options);
  await expect.poll(() => received.length, { timeout: 5000 }).toBe(2);
  const [first, second] = received as [TaskRequest, TaskRequest];
  expect(first.id).toBe(sent.id);
  expect(kept(second)).toEqual(kept(first));
  expect(kept(first)).toMatchObject({ expires: expires.toISOString(), timeLimit: 4000, softTimeLimit: 3000, replyTo: 'fu-replies', groupIndex: 2 });
  expect([first.retries, second.retries]).toEqual([0, 1]);
  expect(first.eta).toBeUndefined();
  expect(second.eta!.getTime()).toBeGreaterThan(Date.now() - 5000);
  await expect.poll(() => runs.length, { timeout: 5000 }).toBe(2);
  expect(runs).toEqual([
    { queue, priority: 3 },
    { queue, priority: 3 },
  ]);
});

it('a request without the optional fields is retried without them', async () => {
  const { app, worker } = setup();
  const again = app.task('fu.plain', () => (currentTask().retries === 0 ? currentTask().retry({ countdown: 10 }) : 'done'));
  const w = await worker();
  const received: TaskRequest[] = [];
  w.on('task-received', (r) => received.push(r));
  expect(await (await again.delay()).get({ timeout: 5000 })).toBe('done');
  const [first, second] = received as [TaskRequest, TaskRequest];
  expect(kept(second)).toEqual(kept(first));
  expect(kept(second)).toMatchObject({ expires: undefined, timeLimit: undefined, softTimeLimit: undefined, parentId: null, group: null, groupIndex: null });
  expect([second.embed.callbacks, second.embed.errbacks, second.embed.chain]).toEqual([null, null, null]);
});

it('retry({ queue, priority }) sends the retry there instead', async () => {
  const { app, worker, queue } = setup();
  const other = `${queue}-other`;
  const runs: Array<{ queue: string; priority: number | undefined; retries: number }> = [];
  const moved = app.task('fu.moved', () => {
    const ctx = currentTask();
    runs.push({ queue: ctx.deliveryInfo.queue, priority: ctx.deliveryInfo.priority, retries: ctx.retries });
    return ctx.retries === 0 ? ctx.retry({ countdown: 10, queue: other, priority: 7 }) : 'moved';
  });
  await worker({ queues: [queue, other] });
  expect(await (await moved.applyAsync([], {}, { priority: 1 })).get({ timeout: 5000 })).toBe('moved');
  expect(runs).toEqual([
    { queue, priority: 1, retries: 0 },
    { queue: other, priority: 7, retries: 1 },
  ]);
});

it('callbacks get the result first, errbacks the failed id, immutable ones only their own arguments; a chain step carries the rest', async () => {
  const { app, worker } = setup();
  const calls: Array<{ name: string; args: unknown[]; chain: number | null; parent: string | null }> = [];
  const record = (name: string) =>
    app.task(name, (...args: unknown[]) => {
      calls.push({ name, args, chain: currentTask().embed.chain?.length ?? null, parent: currentTask().parentId });
      return `${name}!`;
    });
  const cb = record('fu.cb');
  const step = record('fu.step');
  const ok = app.task('fu.ok', () => 'result');
  const bad = app.task('fu.bad', () => {
    throw new Error('bad');
  });
  const w = await worker();
  const received: TaskRequest[] = [];
  w.on('task-received', (r) => received.push(r));
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  const rejected: Array<string | undefined> = [];
  w.on('task-rejected', (r) => rejected.push(r?.name));
  const okId = (await ok.applyAsync([], {}, { link: [cb.s(['a']), cb.si(['b'])], chain: [step.s(['last']), step.s(['next'])] })).id;
  await expect.poll(() => calls.length, { timeout: 5000 }).toBe(4);
  const nextId = received.find((r) => r.args[1] === 'next')?.id ?? null;
  const badId = (await bad.applyAsync([], {}, { linkError: [cb.s(['e']), cb.si(['f'])] })).id;
  await expect.poll(() => calls.length, { timeout: 5000 }).toBe(6);
  const sorted = (list: typeof calls) => [...list].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  expect(sorted(calls.slice(0, 4))).toEqual(
    sorted([
      { name: 'fu.cb', args: ['result', 'a'], chain: null, parent: okId },
      { name: 'fu.cb', args: ['b'], chain: null, parent: okId },
      { name: 'fu.step', args: ['result', 'next'], chain: 1, parent: okId },
      { name: 'fu.step', args: ['fu.step!', 'last'], chain: null, parent: nextId },
    ]),
  );
  expect(sorted(calls.slice(4))).toEqual(
    sorted([
      { name: 'fu.cb', args: [badId, 'e'], chain: null, parent: badId },
      { name: 'fu.cb', args: ['f'], chain: null, parent: badId },
    ]),
  );
  expect(nextId).toEqual(expect.any(String));
  // Signatures as a Python caller may write them, without args: a link alone, errbacks.
  const bare = { task: 'fu.cb' };
  const plainId = (await ok.applyAsync([], {}, { link: [bare, { ...bare, immutable: true }] })).id;
  await expect.poll(() => calls.length, { timeout: 5000 }).toBe(8);
  const badBareId = (await bad.applyAsync([], {}, { linkError: [bare, { ...bare, immutable: true }] })).id;
  await expect.poll(() => calls.length, { timeout: 5000 }).toBe(10);
  expect(sorted(calls.slice(6))).toEqual(
    sorted([
      { name: 'fu.cb', args: ['result'], chain: null, parent: plainId },
      { name: 'fu.cb', args: [], chain: null, parent: plainId },
      { name: 'fu.cb', args: [badBareId], chain: null, parent: badBareId },
      { name: 'fu.cb', args: [], chain: null, parent: badBareId },
    ]),
  );
  // A chain alone: its next step and nothing else.
  const chainOnlyId = (await ok.applyAsync([], {}, { chain: [step.s(['only'])] })).id;
  await expect.poll(() => calls.length, { timeout: 5000 }).toBe(11);
  await sleep(100);
  expect(calls.slice(10)).toEqual([{ name: 'fu.step', args: ['result', 'only'], chain: null, parent: chainOnlyId }]);
  // Every send went, none reported, and nothing was sent that is not a task.
  expect(errors).toEqual([]);
  expect(rejected).toEqual([]);
});

it('a callback that cannot be sent is reported, and the others still go', async () => {
  const { app, worker } = setup();
  const got: unknown[][] = [];
  const cb = app.task('fu.got', (...args: unknown[]) => void got.push(args));
  // Not stored (ignoreResult), so the first the result meets an encoder is the callback's send.
  const circular = app.task(
    'fu.circular',
    () => {
      const o: Record<string, unknown> = {};
      o['self'] = o;
      return o;
    },
    { ignoreResult: true },
  );
  const w = await worker();
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  await circular.applyAsync([], {}, { link: [cb.s(['gets the result']), cb.si(['immutable'])] });
  await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
  await expect.poll(() => errors.length, { timeout: 5000 }).toBe(1);
  expect(got).toEqual([['immutable']]);
});
