/**
 * Flower's task search and list query, on the cases of Flower's own tests
 * (tests/unit/utils/test_search.py): precedence, quoting, qualifiers, exact state and kwargs,
 * errors with their positions and limits, filters, sorting, counts and paging.
 */
import { describe, expect, it } from 'vitest';
import type { FlowerTask } from '../src/flower/monitor.js';
import { parseTaskQuery, queryTasks } from '../src/flower/task-query.js';
import { matchesSearch, parseSearch, searchDocument } from '../src/flower/task-search.js';

function task(uuid: string, name: string, state: string, worker: string | null, o: Partial<FlowerTask> = {}): FlowerTask {
  const none = { received: null, sent: null, started: null, rejected: null, succeeded: null, failed: null, retried: null, revoked: null };
  const rest = { eta: null, expires: null, retries: null, exception: null, runtime: null, traceback: null, exchange: null, routing_key: null };
  const more = { clock: null, client: null, root: null, root_id: null, parent: null, parent_id: null, children: [], meta: null };
  return { uuid, name, state, worker, args: '()', kwargs: '{}', result: null, timestamp: 0, ...none, ...rest, ...more, ...o };
}

const TASKS = [
  task('1', 'tasks.fetch', 'FAILURE', 'worker-a', { args: "('customer-123',)", kwargs: "{'priority': 'high'}", result: 'connection timeout', timestamp: 1 }),
  task('2', 'tasks.store', 'SUCCESS', 'worker-b', { args: "('customer-456',)", kwargs: "{'priority': 'low'}", result: 'stored', timestamp: 2 }),
  task('3', 'tasks.fetch', 'RETRY', 'worker-a', { args: "('customer-789',)", kwargs: "{'priority': 'high'}", result: 'retry timeout', timestamp: 3 }),
  task('4', 'tasks.report', 'SUCCESS', null, { args: "('hello world',)", kwargs: "{'label': 'some value'}", timestamp: 4 }),
];

const ids = (query: string): string[] =>
  TASKS.filter((t) => matchesSearch(parseSearch(query), searchDocument(t)))
    .map((t) => t.uuid)
    .sort();

describe("Flower's task search", () => {
  it('reads precedence, parentheses, quotes and qualifiers as Flower does', () => {
    expect(parseSearch('  ')).toEqual({ kind: 'all' });
    expect(parseSearch('first OR second third')).toEqual({
      kind: 'or',
      children: [
        { kind: 'term', field: null, value: 'first' },
        {
          kind: 'and',
          children: [
            { kind: 'term', field: null, value: 'second' },
            { kind: 'term', field: null, value: 'third' },
          ],
        },
      ],
    });
    expect(parseSearch('first second')).toEqual(parseSearch('first AND second'));
    expect(parseSearch('args:"hello world"')).toEqual({ kind: 'term', field: 'args', value: 'hello world' });
    expect(parseSearch('NAME:tasks.fetch')).toEqual({ kind: 'term', field: 'name', value: 'tasks.fetch' });
    expect(parseSearch('stateSTARTED')).toEqual({ kind: 'term', field: null, value: 'stateSTARTED' });
  });

  it("refuses what Flower refuses, with Flower's messages", () => {
    expect(() => parseSearch('first OR')).toThrow(/^OR must be followed by a search term at position 6\.$/);
    const invalid: Record<string, RegExp> = {
      ab: /at least 3 characters/,
      'name:': /requires a value/,
      'first AND': /AND must be followed/,
      'NOT first': /NOT is not supported/,
      '-first': /Negation with '-' is not supported/,
      '()': /Empty group/,
      '(first': /Missing closing parenthesis/,
      '"first': /Unterminated quoted phrase/,
    };
    for (const [query, message] of Object.entries(invalid)) expect(() => parseSearch(query), query).toThrow(message);
    expect(() => parseSearch('a'.repeat(2049))).toThrow(/exceeds 2048 characters/);
    expect(() => parseSearch(`${'('.repeat(6)}first${')'.repeat(6)}`)).toThrow(/exceeds 5 levels/);
    expect(() => parseSearch('(first) '.repeat(43))).toThrow(/exceeds 128 tokens/);
  });

  it('matches fields, exact states and keyword arguments, case-insensitively', () => {
    expect(ids('(state:FAILURE OR state:RETRY) result:timeout')).toEqual(['1', '3']);
    expect(ids('kwargs:priority=HIGH')).toEqual(['1', '3']);
    expect(ids('args:"hello world"')).toEqual(['4']);
    expect(ids('kwargs:label="some value"')).toEqual(['4']);
    expect(ids('result:timeout')).toEqual(['1', '3']);
    expect(ids('name:FETCH')).toEqual(['1', '3']);
    expect(ids('worker:WORKER-A')).toEqual(['1', '3']);
    expect(ids('args:CUSTOMER')).toEqual(['1', '2', '3']);
    expect(ids('kwargs:PRIORITY')).toEqual(['1', '2', '3']);
    expect(ids('state:FAIL')).toEqual([]);
    expect(ids('state:failure')).toEqual(['1']);
  });

  it('filters, sorts, counts and pages the list', () => {
    const q = (s: string) => queryTasks(TASKS, parseTaskQuery(new URLSearchParams(s)));
    // Default: most recently updated first.
    expect(q('limit=2')).toEqual({ tasks: [TASKS[3], TASKS[2]], filtered: 4, total: 4 });
    expect(q('search=name:tasks&workername=worker-a&offset=1&limit=1')).toEqual({ tasks: [TASKS[0]], filtered: 2, total: 4 });
    expect(q('sort_by=name').tasks.map((t) => t.uuid)).toEqual(['1', '3', '4', '2']);
    expect(q('sort_by=-name').tasks.map((t) => t.uuid)).toEqual(['2', '4', '3', '1']);
    expect(q('taskname=TASKS.FETCH&state=retry').tasks.map((t) => t.uuid)).toEqual(['3']);
    expect(() => q('search=ab')).toThrow(/at least 3 characters/);
    expect(() => q('sort_by=worker')).toThrow(/sort_by must be one of/);
  });
});
