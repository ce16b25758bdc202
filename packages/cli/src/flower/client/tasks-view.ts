/**
 * `/tasks`: the task list with Flower's filters (state, name, worker), its search syntax, sorting
 * by a column and paging. The filters live in the address (`/tasks?state=FAILURE&search=...`), so a
 * view can be bookmarked or sent; the list follows the events (fetched again at most once a second).
 */
import { get } from './api.js';
import { badge, h, isReported, link, progress, runtime, taskPath, when, workerPath } from './dom.js';
import { throttle, type View } from './view.js';

interface Task {
  uuid: string;
  name: string | null;
  state: string;
  args: string | null;
  kwargs: string | null;
  result: string | null;
  exception: string | null;
  worker: string | null;
  received: number | null;
  started: number | null;
  runtime: number | null;
  meta: unknown;
}

const STATES = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED'];
const SORTABLE: Readonly<Record<string, string>> = { Name: 'name', State: 'state', Received: 'received', Started: 'started' };
const PAGE_SIZES = [25, 50, 100];

export const tasksView: View = ({ root, live, navigate }, _arg, query) => {
  let closed = false;
  const q = new URLSearchParams(query);
  const limit = Number(q.get('limit')) || PAGE_SIZES[0]!;
  const offset = Math.max(0, Number(q.get('offset')) || 0);
  const go = (changes: Record<string, string | number | null>): void => {
    const next = new URLSearchParams(q);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '' || v === 'All') next.delete(k);
      else next.set(k, String(v));
    }
    if (!('offset' in changes)) next.delete('offset');
    const text = next.toString();
    navigate(`/tasks${text ? `?${text}` : ''}`);
  };
  const select = (id: string, param: string, all: string, options: readonly string[]): HTMLSelectElement => {
    const s = h(
      'select',
      { id, 'aria-label': all, onchange: () => go({ [param]: s.value }) },
      h('option', { value: 'All' }, all),
      ...options.map((o) => h('option', { value: o }, o)),
    );
    s.value = q.get(param) ?? 'All';
    return s;
  };
  const names = select('name-filter', 'taskname', 'every task', []);
  const workers = select('worker-filter', 'workername', 'every worker', [...live.workers.keys()].sort());
  const search = h('input', { id: 'search', type: 'search', value: q.get('search') ?? '', placeholder: 'Search: state:FAILURE name:proj.add args:"x" …' });
  search.addEventListener('keydown', (e) => (e as KeyboardEvent).key === 'Enter' && go({ search: search.value.trim() }));
  const error = h('p', { class: 'error', id: 'search-error' });
  const body = h('div', {});
  const pager = h('div', { class: 'pager' });

  const sortBy = q.get('sort_by') ?? '';
  const header = (label: string): HTMLTableCellElement => {
    const key = SORTABLE[label];
    if (!key) return h('th', label === 'Runtime' ? { class: 'num' } : {}, label);
    const next = sortBy === key ? `-${key}` : key;
    const mark = sortBy === key ? ' ▲' : sortBy === `-${key}` ? ' ▼' : '';
    return h('th', {}, h('button', { class: 'link', 'data-sort': key, onclick: () => go({ sort_by: next }) }, label + mark));
  };

  const load = async (): Promise<void> => {
    try {
      const page = await get<{ tasks: Task[]; filtered: number; total: number }>(
        `/dashboard/tasks?${new URLSearchParams({ ...Object.fromEntries(q), limit: String(limit), offset: String(offset) }).toString()}`,
      );
      if (closed) return;
      error.textContent = '';
      const rows = page.tasks.map((t) =>
        h(
          'tr',
          { class: 'task', 'data-id': t.uuid },
          h('td', {}, link(taskPath(t.uuid), t.name ?? '?')),
          h('td', {}, badge(t.state), isReported(t.state) ? progress(t.meta) : null),
          h('td', { class: 'mut id' }, link(taskPath(t.uuid), t.uuid)),
          h('td', {}, t.args ?? ''),
          h('td', {}, t.result ?? t.exception ?? ''),
          h('td', {}, t.worker ? link(workerPath(t.worker), t.worker) : ''),
          h('td', {}, when(t.received)),
          h('td', {}, when(t.started)),
          h('td', { class: 'num' }, runtime(t.runtime)),
        ),
      );
      const head = ['Name', 'State', 'Id', 'Args', 'Result', 'Worker', 'Received', 'Started', 'Runtime'];
      body.replaceChildren(
        h('div', { class: 'scroll' }, h('table', { id: 'tasks' }, h('thead', {}, h('tr', {}, ...head.map(header))), h('tbody', {}, ...rows))),
      );
      if (rows.length === 0) body.append(h('p', { class: 'mut' }, page.total === 0 ? 'No task seen yet.' : 'No task matches.'));
      const from = page.filtered === 0 ? 0 : offset + 1;
      pager.replaceChildren(
        h('button', { id: 'prev', disabled: offset === 0, onclick: () => go({ offset: Math.max(0, offset - limit) }) }, '‹ Newer'),
        h('span', { id: 'page-info' }, `${from}–${offset + rows.length} of ${page.filtered}${page.filtered !== page.total ? ` (${page.total} in all)` : ''}`),
        h('button', { id: 'next', disabled: offset + limit >= page.filtered, onclick: () => go({ offset: offset + limit }) }, 'Older ›'),
        (() => {
          const size = h(
            'select',
            { id: 'page-size', onchange: () => go({ limit: size.value }) },
            ...PAGE_SIZES.map((n) => h('option', { value: n }, `${n} a page`)),
          );
          size.value = String(limit);
          return size;
        })(),
      );
    } catch (e) {
      if (!closed) error.textContent = (e as Error).message;
    }
  };

  root.replaceChildren(
    h('h1', {}, 'Tasks'),
    h(
      'section',
      {},
      h(
        'div',
        { class: 'filters' },
        select('state-filter', 'state', 'every state', STATES),
        names,
        workers,
        search,
        h('button', { onclick: () => go({ search: search.value.trim() }) }, 'Search'),
      ),
      error,
      body,
      pager,
    ),
  );
  void get<{ 'task-types': string[] }>('/api/task/types').then((r) => {
    const current = q.get('taskname') ?? 'All';
    for (const n of r['task-types'].sort()) names.append(h('option', { value: n }, n));
    names.value = current;
  });
  void load();
  const reload = throttle(() => void load(), 1000);
  const off = live.on((e) => e.type.startsWith('task-') && reload());
  return () => {
    closed = true;
    off();
    reload.cancel();
  };
};
