/**
 * Keyword arguments, bound as Python binds them. Celery callers send keyword arguments by name; a
 * JS handler takes positions, so a task declares the names of its positional parameters in order
 * (`params: ['x', 'y']`), and a last `'**name'` takes the keyword arguments no parameter names
 * (the handler reads them from `currentTask().kwargs`). What Python would refuse with a TypeError
 * (a keyword nothing takes, a value given twice, a required argument missing) fails the task with
 * Python's TypeError and wording.
 */
import { TaskConfigError } from './errors.js';

const NAME = /^[A-Za-z_$][\w$]*$/;

/** Throws TaskConfigError unless `params` is a list of distinct parameter names, '**name' only last. */
export function checkParams(task: string, params: unknown): asserts params is readonly string[] | undefined {
  if (params === undefined) return;
  const fail = (why: string): never => {
    throw new TaskConfigError(`task "${task}": params ${why}, got ${JSON.stringify(params)}`);
  };
  if (!Array.isArray(params)) fail('must be an array of parameter names');
  const names = params as unknown[];
  names.forEach((p, i) => {
    const rest = typeof p === 'string' && p.startsWith('**');
    if (typeof p !== 'string' || !NAME.test(rest ? p.slice(2) : p)) fail(`must be parameter names (or a last '**name')`);
    if (rest && i !== names.length - 1) fail(`may end with '**name', which takes the other keyword arguments, only last`);
  });
  if (new Set(names).size !== names.length) fail('must not name a parameter twice');
}

/** What binding needs of a task: its name, declared params, and its handler's count of parameters without defaults. */
export interface Bindable {
  readonly name: string;
  readonly options: { readonly params?: readonly string[] };
  readonly handler: { readonly length: number };
}

const quoted = (names: readonly string[]): string =>
  names.length <= 2
    ? names.map((n) => `'${n}'`).join(' and ')
    : `${names
        .slice(0, -1)
        .map((n) => `'${n}'`)
        .join(', ')}, and '${names.at(-1)}'`;

/** The positional arguments of a call: `args`, with `kwargs` placed by name. Without keyword arguments, `args` itself. */
export function bindArguments(task: Bindable, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): readonly unknown[] {
  let any = false;
  for (const _ in kwargs) {
    any = true;
    break;
  }
  if (!any) return args;
  const params = task.options.params ?? [];
  const takesRest = params.at(-1)?.startsWith('**') === true;
  const named = takesRest ? params.length - 1 : params.length;
  const bound: unknown[] = [...args];
  const filled = new Set<number>();
  for (const [key, value] of Object.entries(kwargs)) {
    const at = params.indexOf(key);
    if (at === -1 || at >= named) {
      if (takesRest) continue;
      throw new TypeError(`${task.name}() got an unexpected keyword argument '${key}'`);
    }
    if (at < args.length) throw new TypeError(`${task.name}() got multiple values for argument '${key}'`);
    bound[at] = value;
    filled.add(at);
  }
  // Required: every parameter before the last one given, and those without a default in the handler.
  const upTo = Math.min(named, Math.max(task.handler.length, ...[...filled].map((i) => i + 1)));
  const missing = params.slice(args.length, upTo).filter((_, i) => !filled.has(args.length + i));
  if (missing.length > 0) {
    throw new TypeError(`${task.name}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${quoted(missing)}`);
  }
  return bound;
}
