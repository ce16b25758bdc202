/**
 * The canvas is typed from its steps (checked by `tsc -p tsconfig.checks.json`; the calls also run
 * on memory://): a chain's result by its last step, a group's by its members, a chord's by its
 * body; a signature's arguments by its handler's trailing parameters. Each @ts-expect-error is a
 * mistake the types catch.
 */
import { afterEach, expect, expectTypeOf, it } from 'vitest';
import { chain, chord, group, signature, type AsyncResult, type GroupResult } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

it('chain, group and chord results are typed by their steps, and the wrong uses do not compile', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const add = app.task('typing.add', (x: number, y: number) => x + y);
  const show = app.task('typing.show', (value: number, prefix = '=') => `${prefix}${value}`);
  const total = app.task('typing.total', (values: number[]) => values.reduce((a, b) => a + b, 0));
  await worker();

  const chained = await chain(add.s([1, 2]), add.s([10]), show.s(['total: '])).applyAsync(app);
  expectTypeOf(chained).toEqualTypeOf<AsyncResult<string>>();
  expect(await chained.get({ timeout: 5000 })).toBe('total: 13');

  const same = await group(add.s([1, 1]), add.s([2, 2])).applyAsync(app);
  expectTypeOf(same).toEqualTypeOf<GroupResult<number>>();
  expect(await same.get({ timeout: 5000 })).toEqual([2, 4]);
  const mixed = await group(add.s([1, 1]), show.si([5])).applyAsync(app);
  expectTypeOf(mixed).toEqualTypeOf<GroupResult<number | string>>();
  expect(await mixed.get({ timeout: 5000 })).toEqual([2, '=5']);

  const summed = await chord([add.s([1, 2]), add.s([3, 4])], total.s()).applyAsync(app);
  expectTypeOf(summed).toEqualTypeOf<AsyncResult<number>>();
  expect(await summed.get({ timeout: 5000 })).toBe(10);

  // A step called by name (a Python task, say) is unknown, unless its signature says.
  expectTypeOf(chain(add.s([1, 2]), signature('py.double')).applyAsync(app)).toEqualTypeOf<Promise<AsyncResult<unknown>>>();
  expectTypeOf(chain(add.s([1, 2]), signature<number>('py.double')).applyAsync(app)).toEqualTypeOf<Promise<AsyncResult<number>>>();

  const wrong = {
    // @ts-expect-error -- the chain ends with show: a string, not a number
    chainResult: async (): Promise<AsyncResult<number>> => chain(add.s([1, 2]), show.s()).applyAsync(app),
    // @ts-expect-error -- a chain needs at least one step
    emptyChain: () => chain(),
    // @ts-expect-error -- the group's members return numbers
    groupResult: async (): Promise<string[]> => (await group(add.s([1, 1])).applyAsync(app)).get(),
    // @ts-expect-error -- the chord's body, total, returns a number
    chordResult: async (): Promise<AsyncResult<string>> => chord([add.s([1, 2])], total.s()).applyAsync(app),
    // @ts-expect-error -- add's trailing parameters are numbers
    signatureArgs: () => add.s(['1']),
    // @ts-expect-error -- add takes two arguments, not three
    tooManyArgs: () => add.s([1, 2, 3]),
    // @ts-expect-error -- an immutable signature gets exactly its arguments: both of them
    immutableArgs: () => add.si([1]),
  };
  expect(Object.keys(wrong)).toHaveLength(7);
});
