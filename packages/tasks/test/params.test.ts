/**
 * Keyword arguments (#22.7): a Python caller's kwargs reach a nori task through its declared
 * `params` (the names of its positional parameters, in order), as Python binds them; what Python
 * would refuse with a TypeError fails the task with a TypeError that names the arguments (they
 * were dropped silently: the handler ran without them). `params` is checked at registration.
 */
import { afterEach, expect, it } from 'vitest';
import { currentTask, TaskConfigError, TaskError } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

const setup = () => testbed('memory://', { backend: 'memory://' });

it('keyword arguments map onto the declared params; mixed calls too; undeclared ones are a TypeError', async () => {
  const { app, worker } = setup();
  const add = app.task('kw.add', (x: number, y: number, z = 100) => x + y + z, { params: ['x', 'y', 'z'] });
  const bare = app.task('kw.bare', (x: number) => x);
  const echo = app.task('kw.echo', (a: number) => ({ a, kwargs: currentTask().kwargs }), { params: ['a', '**kwargs'] });
  await worker();
  const outcome = async (p: Promise<{ get(o: { timeout: number; propagate: false }): Promise<unknown> }>): Promise<unknown> => {
    const got = await (await p).get({ timeout: 5000, propagate: false });
    return got instanceof TaskError ? `${got.excType}: ${String(got.excMessage[0])}` : got;
  };
  expect(await outcome(add.applyAsync([] as never, { x: 1, y: 2 }))).toBe(103);
  expect(await outcome(add.applyAsync([1] as never, { y: 2, z: 3 }))).toBe(6);
  expect(await outcome(add.applyAsync([1, 2] as never, { z: 0 }))).toBe(3);
  expect(await outcome(app.sendTask('kw.add', [1], { x: 5 }))).toBe("TypeError: kw.add() got multiple values for argument 'x'");
  expect(await outcome(app.sendTask('kw.add', [], { y: 5, w: 1 }))).toBe("TypeError: kw.add() got an unexpected keyword argument 'w'");
  expect(await outcome(app.sendTask('kw.add', [], { z: 5 }))).toBe("TypeError: kw.add() missing 2 required positional arguments: 'x' and 'y'");
  expect(await outcome(app.sendTask('kw.add', [], { y: 5 }))).toBe("TypeError: kw.add() missing 1 required positional argument: 'x'");
  // No params: a keyword argument has nowhere to go (before, the handler ran with x undefined).
  expect(await outcome(bare.applyAsync([] as never, { x: 7 }))).toBe("TypeError: kw.bare() got an unexpected keyword argument 'x'");
  expect(await outcome(bare.delay(7))).toBe(7);
  // '**kwargs' takes the rest, which the handler reads from its context.
  expect(await outcome(echo.applyAsync([] as never, { a: 1, b: 2 }))).toEqual({ a: 1, kwargs: { a: 1, b: 2 } });
});

it('params is checked when the task is registered', () => {
  const { app } = setup();
  const bad: unknown[] = ['x', [1], ['x', 'x'], ['x', ''], ['**rest', 'y'], ['x y']];
  for (const params of bad) {
    expect(() => app.task(`kw.bad${JSON.stringify(params)}`, () => 1, { params: params as string[] }), JSON.stringify(params)).toThrow(TaskConfigError);
  }
  expect(() => app.task('kw.ok', (x: number) => x, { params: ['x', '**rest'] })).not.toThrow();
});
