/**
 * Types flow from handlers and from the TaskRegistry declaration: wrong arguments do not compile
 * (checked by `tsc -p tsconfig.checks.json`), results are typed, unknown names stay open.
 */
import { afterEach, expect, expectTypeOf, it } from 'vitest';
import type { AsyncResult } from '@nori/tasks';
import { cleanup, testbed } from './testbed.js';

declare module '@nori/tasks' {
  interface TaskRegistry {
    'typing.mul': (x: number, y: number) => number;
  }
}

afterEach(cleanup);

it('types delay/applyAsync from the handler and sendTask from the registry', async () => {
  const { app, worker } = testbed('memory://', { backend: 'memory://' });
  const upper = app.task('typing.upper', async (text: string, times = 1) => text.toUpperCase().repeat(times));
  app.task('typing.mul', (x: number, y: number) => x * y);
  await worker();

  const r1 = await upper.delay('ab', 2);
  expectTypeOf(r1).toEqualTypeOf<AsyncResult<string>>();
  expect(await r1.get({ timeout: 5000 })).toBe('ABAB');
  const r2 = await app.sendTask('typing.mul', [6, 7]);
  expectTypeOf(r2).toEqualTypeOf<AsyncResult<number>>();
  expect(await r2.get({ timeout: 5000 })).toBe(42);
  // A name outside the registry takes any arguments and gives an unknown result.
  const r3 = await app.sendTask('typing.upper', ['x']);
  expectTypeOf(r3).toEqualTypeOf<AsyncResult<unknown>>();
  expect(await r3.get({ timeout: 5000 })).toBe('X');

  const wrong = {
    // @ts-expect-error -- a number where the handler takes a string
    delay: () => upper.delay(1),
    // @ts-expect-error -- too many arguments
    applyAsync: () => upper.applyAsync(['a', 1, 2]),
    // @ts-expect-error -- the registry says (number, number)
    sendTask: () => app.sendTask('typing.mul', ['6', 7]),
  };
  expect(Object.keys(wrong)).toHaveLength(3);
});
