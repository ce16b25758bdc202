/**
 * Flower's task search (flower/utils/search.py): terms, "quoted phrases", AND (or nothing) binding
 * tighter than OR, parentheses; `field:value` on name, state, worker, args, kwargs, result, without
 * a field on all of them and the id (`result:` reads a failure's exception too, which Flower's does
 * not). Case-insensitive; `state:` is exact, `kwargs:key=value` matches
 * one keyword argument exactly, other terms are substrings of at least 3 characters. NOT and `-term`
 * are refused, as Flower refuses them; errors say where (Flower's messages and limits).
 */
import { SearchQueryError } from '../errors.js';
import type { FlowerTask } from './monitor.js';
import { parsePythonLiteral, pythonStr } from './python-literal.js';

const FIELDS = new Set(['name', 'state', 'worker', 'args', 'kwargs', 'result']);
type Field = 'name' | 'state' | 'worker' | 'args' | 'kwargs' | 'result';
const MIN_SUBSTRING = 3;
const MAX_LENGTH = 2048;
const MAX_TOKENS = 128;
const MAX_DEPTH = 5;

export type SearchNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'term'; readonly field: Field | null; readonly value: string }
  | { readonly kind: 'and' | 'or'; readonly children: readonly SearchNode[] };

interface Token {
  kind: 'TERM' | 'AND' | 'OR' | 'LPAREN' | 'RPAREN' | 'EOF';
  value: string;
  position: number;
}

const fail = (message: string, position?: number): never => {
  throw new SearchQueryError(`${position === undefined ? message : `${message} at position ${position}`}.`);
};

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  const push = (t: Token): void => {
    tokens.push(t);
    if (tokens.length > MAX_TOKENS) fail(`Query exceeds ${MAX_TOKENS} tokens`);
  };
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      push({ kind: c === '(' ? 'LPAREN' : 'RPAREN', value: c, position: i++ });
      continue;
    }
    const position = i;
    let value = '';
    let quoted = false;
    let inQuote = false;
    while (i < query.length) {
      const ch = query[i]!;
      if (ch === '\\' && (query[i + 1] === '"' || query[i + 1] === '\\')) {
        value += query[i + 1];
        i += 2;
      } else if (ch === '"') {
        quoted = true;
        inQuote = !inQuote;
        i++;
      } else if (!inQuote && (/\s/.test(ch) || ch === '(' || ch === ')')) {
        break;
      } else {
        value += ch;
        i++;
      }
    }
    if (inQuote) fail('Unterminated quoted phrase', position);
    if (!value) fail('Empty search term', position);
    if (!quoted && value === 'NOT') fail('NOT is not supported', position);
    push({ kind: !quoted && (value === 'AND' || value === 'OR') ? value : 'TERM', value, position });
  }
  tokens.push({ kind: 'EOF', value: '', position: query.length });
  return tokens;
}

function term(token: Token): SearchNode {
  let field: Field | null = null;
  let value = token.value;
  const colon = value.indexOf(':');
  if (colon !== -1 && FIELDS.has(value.slice(0, colon).toLowerCase())) {
    field = value.slice(0, colon).toLowerCase() as Field;
    value = value.slice(colon + 1);
  }
  if (field === null && value.startsWith('-')) fail("Negation with '-' is not supported", token.position);
  if (!value) fail('Search qualifier requires a value', token.position);
  const exact = field === 'state' || (field === 'kwargs' && value.includes('='));
  if (!exact && value.trim().length < MIN_SUBSTRING) fail(`Substring search terms must contain at least ${MIN_SUBSTRING} characters`, token.position);
  return { kind: 'term', field, value };
}

const combine = (kind: 'and' | 'or', children: SearchNode[]): SearchNode => (children.length === 1 ? children[0]! : { kind, children });

export function parseSearch(query: string): SearchNode {
  const q = query.trim();
  if (q.length > MAX_LENGTH) fail(`Query exceeds ${MAX_LENGTH} characters`);
  const tokens = tokenize(q);
  let at = 0;
  const current = (): Token => tokens[at]!;
  const ends = (kinds: ReadonlyArray<Token['kind']>): boolean => kinds.includes(current().kind);

  const primary = (depth: number): SearchNode => {
    const token = current();
    if (token.kind === 'LPAREN') {
      if (depth >= MAX_DEPTH) fail(`Query nesting exceeds ${MAX_DEPTH} levels`, token.position);
      at++;
      if (current().kind === 'RPAREN') fail('Empty group', token.position);
      const inner = or(depth + 1);
      if (current().kind !== 'RPAREN') fail('Missing closing parenthesis', token.position);
      at++;
      return inner;
    }
    if (token.kind !== 'TERM') fail('Expected a search term', token.position);
    at++;
    return term(token);
  };
  const and = (depth: number): SearchNode => {
    const children = [primary(depth)];
    while (!ends(['EOF', 'RPAREN', 'OR'])) {
      if (current().kind === 'AND') {
        const operator = tokens[at++]!;
        if (ends(['EOF', 'RPAREN', 'AND', 'OR'])) fail('AND must be followed by a search term', operator.position);
      }
      children.push(primary(depth));
    }
    return combine('and', children);
  };
  const or = (depth: number): SearchNode => {
    const children = [and(depth)];
    while (current().kind === 'OR') {
      const operator = tokens[at++]!;
      if (ends(['EOF', 'RPAREN', 'AND', 'OR'])) fail('OR must be followed by a search term', operator.position);
      children.push(and(depth));
    }
    return combine('or', children);
  };

  if (current().kind === 'EOF') return { kind: 'all' };
  const node = or(0);
  if (current().kind !== 'EOF') fail(`Unexpected '${current().value}'`, current().position);
  return node;
}

/** What a task is searched by: its fields lower-cased, and its keyword arguments as `key=value`. */
export interface SearchDocument {
  readonly fields: Readonly<Record<Field, string>>;
  readonly all: string;
  readonly kwargsPairs: ReadonlySet<string>;
}

const fold = (v: string | null): string => (v ?? '').toLowerCase();

function kwargsPairs(kwargs: string | null): Set<string> {
  const value = kwargs === null ? undefined : parsePythonLiteral(kwargs);
  if (typeof value !== 'object' || value === null || value instanceof Array) return new Set();
  return new Set(Object.entries(value).map(([k, v]) => `${fold(k)}=${fold(pythonStr(v))}`));
}

export function searchDocument(t: FlowerTask): SearchDocument {
  const fields = {
    name: fold(t.name),
    state: fold(t.state),
    worker: fold(t.worker),
    args: fold(t.args),
    kwargs: fold(t.kwargs),
    result: fold(t.result ?? t.exception),
  };
  return {
    fields,
    all: [fold(t.uuid), fields.name, fields.state, fields.worker, fields.args, fields.kwargs, fields.result].join('\0'),
    kwargsPairs: kwargsPairs(t.kwargs),
  };
}

export function matchesSearch(node: SearchNode, doc: SearchDocument): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'and':
      return node.children.every((c) => matchesSearch(c, doc));
    case 'or':
      return node.children.some((c) => matchesSearch(c, doc));
    case 'term': {
      const value = node.value.toLowerCase();
      if (node.field === 'state') return doc.fields.state === value;
      if (node.field === 'kwargs' && value.includes('=')) {
        const eq = value.indexOf('=');
        return doc.kwargsPairs.has(`${value.slice(0, eq).trim()}=${value.slice(eq + 1).trim()}`);
      }
      return (node.field === null ? doc.all : doc.fields[node.field]).includes(value);
    }
  }
}
