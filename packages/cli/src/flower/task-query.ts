/**
 * Flower's `/api/tasks` filters, search, sorting and paging (flower/utils/tasks.py and
 * flower/utils/search.py): taskname, state, workername ('All' = any; exact, case-insensitive),
 * received_start/received_end ('%Y-%m-%d %H:%M', local time as Flower reads it; a task not yet
 * received is not excluded by them), search (task-search.ts), sort_by (name, state, received,
 * started; '-' for descending; tasks without the field first; default most recently updated
 * first), offset, limit. `filtered` and `total` count the tasks before paging, as Flower's
 * datatable reports them.
 */
import { unixSeconds } from '@nori/tasks/protocol';
import { SearchQueryError } from '../errors.js';
import type { FlowerTask } from './monitor.js';
import { matchesSearch, parseSearch, searchDocument, type SearchNode } from './task-search.js';

export interface TaskQuery {
  limit?: number;
  offset: number;
  sortBy?: 'name' | 'state' | 'received' | 'started';
  descending: boolean;
  worker?: string;
  name?: string;
  state?: string;
  receivedStart?: number;
  receivedEnd?: number;
  search: SearchNode;
}

export interface TaskPage {
  tasks: FlowerTask[];
  filtered: number;
  total: number;
}

const SORT_KEYS = new Set(['name', 'state', 'received', 'started']);

/** '2026-11-26 16:05' as seconds (local time, as Flower's time.mktime does). */
function minute(value: string | null, name: string): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(value);
  if (!m) throw new SearchQueryError(`${name} must look like 2026-01-31 13:45, got "${value}"`);
  return unixSeconds(new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!).getTime());
}

const all = (v: string | null): string | undefined => (v === null || v === '' || v === 'All' ? undefined : v.toLowerCase());

export function parseTaskQuery(q: URLSearchParams): TaskQuery {
  const int = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new SearchQueryError(`${name} must be a whole number, got "${v}"`);
    return n;
  };
  const sortBy = q.get('sort_by') || undefined;
  if (sortBy !== undefined && !SORT_KEYS.has(sortBy.replace(/^-/, '')))
    throw new SearchQueryError(`sort_by must be one of ${[...SORT_KEYS].join(', ')} (with - for descending)`);
  const limit = int('limit');
  return {
    ...(limit !== undefined && { limit: Math.max(limit, 0) }),
    offset: Math.max(int('offset') ?? 0, 0),
    ...(sortBy && { sortBy: sortBy.replace(/^-/, '') as TaskQuery['sortBy'] }),
    descending: sortBy?.startsWith('-') === true,
    worker: all(q.get('workername')),
    name: all(q.get('taskname')),
    state: all(q.get('state')),
    receivedStart: minute(q.get('received_start'), 'received_start'),
    receivedEnd: minute(q.get('received_end'), 'received_end'),
    search: parseSearch(q.get('search') ?? ''),
  };
}

/** Tasks without the sort field first; names and states case-insensitive; ties by id. */
function sortKey(t: FlowerTask, field: NonNullable<TaskQuery['sortBy']>): [number, string | number] {
  const v = t[field];
  if (v === null) return [0, ''];
  return [1, typeof v === 'number' ? v : v.toLowerCase()];
}

function compare(a: [number, string | number], b: [number, string | number]): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

export function queryTasks(tasks: readonly FlowerTask[], q: TaskQuery): TaskPage {
  const matching = tasks.filter(
    (t) =>
      (!q.name || t.name?.toLowerCase() === q.name) &&
      (!q.state || t.state.toLowerCase() === q.state) &&
      (!q.worker || t.worker?.toLowerCase() === q.worker) &&
      (q.receivedStart === undefined || t.received === null || t.received >= q.receivedStart) &&
      (q.receivedEnd === undefined || t.received === null || t.received <= q.receivedEnd) &&
      matchesSearch(q.search, searchDocument(t)),
  );
  const field = q.sortBy;
  const sign = q.descending || !field ? -1 : 1;
  const key = field ? (t: FlowerTask): [number, string | number] => sortKey(t, field) : (t: FlowerTask): [number, number] => [1, t.timestamp ?? 0];
  const sorted = matching
    .map((t) => ({ t, k: key(t) }))
    .sort((a, b) => sign * (compare(a.k, b.k) || (a.t.uuid < b.t.uuid ? -1 : a.t.uuid > b.t.uuid ? 1 : 0)))
    .map((x) => x.t);
  return {
    tasks: sorted.slice(q.offset, q.limit === undefined ? undefined : q.offset + q.limit),
    filtered: matching.length,
    total: tasks.length,
  };
}
