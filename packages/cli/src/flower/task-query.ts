/**
 * Flower's `/api/tasks` filters and paging (flower/utils/tasks.py): taskname, state, workername
 * ('All' = any), received_start/received_end ('%Y-%m-%d %H:%M', local time as Flower reads it),
 * search (a substring of the id, name, args, kwargs or result), sort_by (name, state, received,
 * started; '-' for descending; default most recently updated first), offset, limit.
 */
import { SearchQueryError } from '../errors.js';
import type { FlowerTask } from './monitor.js';

export interface TaskQuery {
  limit?: number;
  offset: number;
  sortBy?: string;
  worker?: string;
  name?: string;
  state?: string;
  receivedStart?: number;
  receivedEnd?: number;
  search?: string;
}

const SORT_KEYS = new Set(['name', 'state', 'received', 'started']);

/** '2026-11-26 16:05' as seconds (local time, as Flower's time.mktime does). */
function minute(value: string | null, name: string): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(value);
  if (!m) throw new SearchQueryError(`${name} must look like 2026-01-31 13:45, got "${value}"`);
  return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!).getTime() / 1000;
}

const all = (v: string | null): string | undefined => (v === null || v === '' || v === 'All' ? undefined : v);

export function parseTaskQuery(q: URLSearchParams): TaskQuery {
  const int = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new SearchQueryError(`${name} must be a whole number, got "${v}"`);
    return n;
  };
  const sortBy = q.get('sort_by') ?? undefined;
  if (sortBy !== undefined && !SORT_KEYS.has(sortBy.replace(/^-/, '')))
    throw new SearchQueryError(`sort_by must be one of ${[...SORT_KEYS].join(', ')} (with - for descending)`);
  return {
    limit: int('limit'),
    offset: Math.max(int('offset') ?? 0, 0),
    sortBy,
    worker: all(q.get('workername')),
    name: all(q.get('taskname')),
    state: all(q.get('state')),
    receivedStart: minute(q.get('received_start'), 'received_start'),
    receivedEnd: minute(q.get('received_end'), 'received_end'),
    search: q.get('search') || undefined,
  };
}

export function queryTasks(tasks: readonly FlowerTask[], q: TaskQuery): FlowerTask[] {
  const needle = q.search?.toLowerCase();
  let out = tasks.filter(
    (t) =>
      (!q.name || t.name === q.name) &&
      (!q.state || t.state === q.state) &&
      (!q.worker || t.worker === q.worker) &&
      (q.receivedStart === undefined || (t.received !== null && t.received > q.receivedStart)) &&
      (q.receivedEnd === undefined || (t.received !== null && t.received < q.receivedEnd)) &&
      (!needle || [t.uuid, t.name, t.args, t.kwargs, t.result].some((f) => f?.toLowerCase().includes(needle))),
  );
  if (q.sortBy) {
    const desc = q.sortBy.startsWith('-');
    const k = q.sortBy.replace(/^-/, '') as 'name' | 'state' | 'received' | 'started';
    out = out.sort((a, b) => {
      const x = a[k] ?? '';
      const y = b[k] ?? '';
      return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
    });
  }
  return out.slice(q.offset, q.limit === undefined ? undefined : q.offset + q.limit);
}
