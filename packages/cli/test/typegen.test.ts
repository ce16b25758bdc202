/**
 * `nori types --from-python`: Debian's Python Celery 5.2 imports fixtures/python/typed_tasks.py,
 * the bin writes the registry, and TypeScript checks `sendTask` calls against it: the right calls
 * compile, and each `@ts-expect-error` line (a wrong argument type, a missing or extra argument or
 * keyword) is an error only with the registry in the program.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '@nori/testing/kombu';
import { run } from './bin.js';

const FIXTURES = fileURLToPath(new URL('fixtures/python', import.meta.url));
const TASKS_PACKAGE = fileURLToPath(new URL('../../tasks', import.meta.url));
const TYPE_ROOTS = fileURLToPath(new URL('../../../node_modules/@types', import.meta.url));

/** Calls as a TypeScript user of the Python tasks writes them. */
const USE = `import { App } from '@nori/tasks';

const app = new App({ broker: 'memory://' });

export async function use(): Promise<void> {
  const sum: number = await (await app.sendTask('tasks.add', [1, 2])).get();
  await app.sendTask('tasks.add', [sum]);
  // @ts-expect-error x is an int
  await app.sendTask('tasks.add', ['1', 2]);
  // @ts-expect-error x has no default
  await app.sendTask('tasks.add', []);
  // @ts-expect-error add takes two
  await app.sendTask('tasks.add', [1, 2, 3]);
  // @ts-expect-error add has no keyword-only parameters
  await app.sendTask('tasks.add', [1], { y: 2 });

  const greeting: string = await (await app.sendTask('tasks.greet', ['ann'], { times: 2, shout: true })).get();
  // @ts-expect-error greet returns a str
  const count: number = await (await app.sendTask('tasks.greet', [greeting], { times: 1 })).get();
  // @ts-expect-error times is a required keyword
  await app.sendTask('tasks.greet', ['ann'], { shout: true });
  // @ts-expect-error shout is a bool
  await app.sendTask('tasks.greet', ['ann'], { times: count, shout: 'yes' });
  // @ts-expect-error greet has no keyword "loud"
  await app.sendTask('tasks.greet', ['ann'], { times: 1, loud: true });

  const byName: Record<string, number[]> = await (
    await app.sendTask('tasks.collections', [[1], ['a'], { a: 1.5 }, { any: [null] }, [1, 'a'], [1, 2, 3], null, 'x', 4])
  ).get();
  await app.sendTask('tasks.collections', [[], [], {}, {}, [0, ''], [], 'set', 5, null]);
  // @ts-expect-error ids is a List[int]
  await app.sendTask('tasks.collections', [['1'], [], {}, {}, [0, ''], [], null, 1, null]);
  // @ts-expect-error scores is a Dict[str, float]
  await app.sendTask('tasks.collections', [[], [], { a: 'high' }, {}, [0, ''], [], null, 1, null]);
  // @ts-expect-error pair is a Tuple[int, str]
  await app.sendTask('tasks.collections', [[], [], {}, {}, ['', 0], [], null, 1, null]);
  // @ts-expect-error many is a Tuple[int, ...]
  await app.sendTask('tasks.collections', [[], [], {}, {}, [0, ''], [1, 'two'], null, 1, null]);
  // @ts-expect-error maybe is an Optional[str], not a missing one
  await app.sendTask('tasks.collections', [[], [], {}, {}, [0, ''], [], undefined, 1, null]);
  // @ts-expect-error either is a Union[int, str]
  await app.sendTask('tasks.collections', [[], [], {}, {}, [0, ''], [], null, true, null]);
  // @ts-expect-error piped is int | None
  await app.sendTask('tasks.collections', [[], [], {}, {}, [0, ''], [], null, 1, 'x']);

  await app.sendTask('tasks.loose', [{ a: 1 }, 'b', 3, 4], { colour: 'red' });
  // @ts-expect-error *rest is int
  await app.sendTask('tasks.loose', [1, 'b', 'c']);
  // @ts-expect-error **options is str
  await app.sendTask('tasks.loose', [1, 2], { colour: 1 });

  await app.sendTask('tasks.odd', [new Date().toISOString(), 'AAEC', { 1: 'a' }, 'slow']);
  // @ts-expect-error mode is a Literal['fast', 'slow']
  await app.sendTask('tasks.odd', ['', '', {}, 'medium']);

  const points: Array<{ x: number; y: number }> = await (await app.sendTask('tasks.shapes', [{ x: 1, y: 2 }, 3], { any: 'thing' })).get();
  // @ts-expect-error a Point has a y
  await app.sendTask('tasks.shapes', [{ x: points.length }]);

  // A task the registry does not know stays untyped.
  await app.sendTask('tasks.elsewhere', [byName, 'two'], { anything: true });
}
`;

let dir: string;
let registry: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nori-typegen-'));
  // The program imports @nori/tasks as a user's project does: its built declarations (tsc -b).
  await mkdir(join(dir, 'node_modules', '@nori'), { recursive: true });
  await symlink(TASKS_PACKAGE, join(dir, 'node_modules', '@nori', 'tasks'));
  await writeFile(join(dir, 'use.ts'), USE);
  const out = join(dir, 'registry.d.ts');
  const r = await run(['types', '--from-python', 'typed_tasks:app', '--out', out], { PYTHON, PYTHONPATH: FIXTURES });
  expect(r.stderr).toBe('typed_tasks imported\n'); // the module's print, kept off the JSON on stdout
  expect(r.code).toBe(0);
  registry = await readFile(out, 'utf8');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Lines (1-based) of use.ts with an error of `code`, type-checking `files` of the temp dir. */
function errorLines(files: readonly string[]): { code: number; line: number; text: string }[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [TYPE_ROOTS],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const program = ts.createProgram(
    files.map((f) => join(dir, f)),
    options,
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    expect(d.file?.fileName, ts.flattenDiagnosticMessageText(d.messageText, '\n')).toBe(join(dir, 'use.ts'));
    return { code: d.code, line: d.file!.getLineAndCharacterOfPosition(d.start!).line + 1, text: ts.flattenDiagnosticMessageText(d.messageText, ' ') };
  });
}

const expectErrorLines = USE.split('\n').flatMap((l, i) => (l.includes('@ts-expect-error') ? [i + 1] : []));

describe('nori types --from-python', () => {
  it('writes a TaskRegistry entry per task: positional args, keyword-only kwargs, JSON types, unknown with the Python name', () => {
    expect(registry).toMatch(/^\/\/ Generated by `nori types --from-python typed_tasks:app` from Celery 5\.2\.\d+\. /);
    const entries = registry.split('\n').filter((l) => l.startsWith('    "'));
    expect(entries).toEqual([
      '    "tasks.add": { (x: number, y?: number): number; kwargs: Record<string, never> };',
      '    "tasks.collections": { (ids: number[], tags: string[], scores: Record<string, number>, meta: Record<string, unknown>, pair: [number, string], many: number[], maybe: string | null, either: number | string, piped: number | null): Record<string, number[]>; kwargs: Record<string, never> };',
      '    "tasks.greet": { (name: string): string; kwargs: { shout?: boolean; times: number } };',
      '    "tasks.loose": { (a: unknown, b: unknown, ...rest: number[]): unknown; kwargs: Record<string, string> };',
      '    "tasks.odd": { (when: unknown /* datetime.datetime */, blob: unknown /* bytes */, keyed: unknown /* Dict[int, str] */, mode?: "fast" | "slow"): null; kwargs: Record<string, never> };',
      '    "tasks.shapes": { (origin: { x: number; y: number }, new_?: number): { x: number; y: number }[]; kwargs: Record<string, unknown> };',
    ]);
    // Celery's own tasks are left out; each entry names the Python function (bind=True: no self).
    expect(registry).not.toContain('celery.');
    expect(registry).toContain('    /** typed_tasks.greet */\n    "tasks.greet"');
  });

  it('with the registry, the right calls compile and every @ts-expect-error line is an error', () => {
    expect(expectErrorLines.length).toBe(19);
    expect(errorLines(['use.ts', 'registry.d.ts'])).toEqual([]);
  });

  it('without it, the same wrong calls compile: each of those errors comes from the registry', () => {
    const unused = errorLines(['use.ts'])
      .filter((e) => e.code === 2578) // Unused '@ts-expect-error' directive.
      .map((e) => e.line);
    // Except the wrong result type: an unregistered task's result is `unknown`, no `number` either.
    const resultLine = USE.split('\n').findIndex((l) => l.includes('greet returns a str')) + 1;
    expect(unused).toEqual(expectErrorLines.filter((l) => l !== resultLine));
  });

  it('a module Python cannot import: exit 1 and Python says why', async () => {
    const r = await run(['types', '--from-python', 'no_such_module:app'], { PYTHON, PYTHONPATH: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("ModuleNotFoundError: No module named 'no_such_module'\n");
    expect(r.stderr).toMatch(/\nnori: could not read the tasks of no_such_module:app: \/usr\/bin\/python3 exited with 1 \(its message is above\)\n$/);
  });

  it('a module without that app: exit 1 naming the attribute', async () => {
    const r = await run(['types', '--from-python', 'typed_tasks:nothing'], { PYTHON, PYTHONPATH: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LookupError: module typed_tasks has no attribute nothing\n');
  });

  it('no interpreter: exit 1 naming PYTHON', async () => {
    const r = await run(['types', '--from-python', 'typed_tasks:app'], { PYTHON: '/nonexistent/python3', PYTHONPATH: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'nori: could not read the tasks of typed_tasks:app: /nonexistent/python3 was not found (set PYTHON to the interpreter of your Celery app)\n',
    );
  });
});
