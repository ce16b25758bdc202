/**
 * `/beat` (`?name=` another beat than 'default'): a beat's entries, code and stored, on or off,
 * with their last and next runs and when each stored one was written, and the last changes; a
 * form that stores an entry (or changes the one of that name), and buttons that turn an entry on
 * or off or remove a stored one. The leading beat picks each change up within one tick. Asked
 * again every 5 s; read-only mode shows no controls.
 */
import { get, post } from './api.js';
import { fill, h, table } from './dom.js';
import type { View } from './view.js';

interface Entry {
  name: string;
  source: 'stored' | 'code';
  overrides: boolean;
  task: string;
  schedule: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  enabled: boolean;
  lastRun: string | null;
  nextRun: string | null;
  updatedAt: string | null;
}

interface Change {
  at: number;
  op: string;
  entry: string;
  by: string;
  schedule?: string;
}

const time = (iso: string | number | null): string => (iso === null ? '' : new Date(iso).toLocaleString(undefined, { hour12: false }));

export const beatView: View = ({ root, config, notice }, _arg, query) => {
  let closed = false;
  const beat = query.get('name') ?? 'default';
  const entries = h('div', {}, h('p', { class: 'mut' }, 'Reading beat’s store…'));
  const changes = h('div', {});
  const act = (what: Promise<string>): void =>
    void what.then(
      (message) => {
        notice(message);
        void load();
      },
      (error: unknown) => notice((error as Error).message, true),
    );
  const load = async (): Promise<void> => {
    try {
      const b = await get<{ entries: Entry[]; changes: Change[] }>(`/dashboard/beat?name=${encodeURIComponent(beat)}`);
      if (closed) return;
      const rows = b.entries.map((e) =>
        h(
          'tr',
          { 'data-entry': e.name },
          h('td', {}, e.name),
          h('td', {}, e.overrides ? 'stored (replaces code)' : e.source),
          h('td', { 'data-field': 'enabled' }, e.enabled ? 'on' : 'off'),
          h('td', {}, e.task),
          h('td', {}, e.schedule),
          h('td', {}, e.args.length > 0 || Object.keys(e.kwargs).length > 0 ? JSON.stringify([e.args, e.kwargs]) : ''),
          h('td', {}, time(e.lastRun)),
          h('td', {}, e.enabled ? time(e.nextRun) : ''),
          h('td', {}, time(e.updatedAt)),
          config.readOnly
            ? null
            : h(
                'td',
                {},
                h(
                  'button',
                  { class: 'toggle', onclick: () => act(post(`/dashboard/beat/${e.enabled ? 'disable' : 'enable'}`, { beat, entry: e.name })) },
                  e.enabled ? 'Disable' : 'Enable',
                ),
                e.source === 'stored'
                  ? h('button', { class: 'remove', onclick: () => act(post('/dashboard/beat/remove', { beat, entry: e.name })) }, 'Remove')
                  : null,
              ),
        ),
      );
      const head = ['Entry', 'Source', 'On', 'Task', 'Schedule', 'Arguments', 'Last run', 'Next run', 'Written', ...(config.readOnly ? [] : [''])];
      entries.replaceChildren(
        rows.length > 0 ? table(head, rows, { id: 'beat-entries' }) : h('p', { class: 'mut' }, 'No entries (a code entry shows once a beat has led).'),
      );
      changes.replaceChildren(
        table(
          ['At', 'Change', 'Entry', 'Schedule', 'By'],
          b.changes.map((c) => h('tr', {}, h('td', {}, time(c.at)), h('td', {}, c.op), h('td', {}, c.entry), h('td', {}, c.schedule ?? ''), h('td', {}, c.by))),
          { id: 'beat-changes' },
        ),
      );
    } catch (error) {
      if (!closed) entries.replaceChildren(h('p', { class: 'error' }, (error as Error).message));
    }
  };

  const input = (name: string, placeholder: string): HTMLInputElement => h('input', { name, placeholder, 'aria-label': placeholder });
  const form = h(
    'form',
    { id: 'beat-add' },
    input('entry', 'entry name'),
    input('task', 'task'),
    h(
      'select',
      { name: 'kind', 'aria-label': 'schedule' },
      h('option', { value: 'every' }, 'every (ms)'),
      h('option', { value: 'crontab' }, 'crontab'),
      h('option', { value: 'at' }, 'at (ISO date)'),
    ),
    input('when', 'schedule'),
    input('timezone', 'time zone (crontab)'),
    input('args', 'args (JSON array)'),
    input('kwargs', 'kwargs (JSON object)'),
    input('queue', 'queue'),
    h('button', { type: 'submit' }, 'Store'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const value = (k: string): string => String(f.get(k) ?? '').trim();
    const params: Record<string, string> = { beat, entry: value('entry'), task: value('task'), [value('kind')]: value('when') };
    for (const k of ['timezone', 'args', 'kwargs', 'queue']) if (value(k)) params[k] = value(k);
    act(post('/dashboard/beat/entry', params));
  });

  fill(
    root,
    h('h1', {}, `Beat ${beat}`),
    h('section', {}, h('h2', {}, 'Entries'), entries),
    config.readOnly ? null : h('section', {}, h('h2', {}, 'Store an entry'), form),
    h('section', {}, h('h2', {}, 'Last changes'), changes),
  );
  void load();
  const timer = window.setInterval(() => void load(), 5000);
  return () => {
    closed = true;
    window.clearInterval(timer);
  };
};
