/**
 * `/dlq`: the dead-letter queues the server can tell (a queue no worker consumes whose first
 * message was dead-lettered) and a form that opens any queue by name. `/dlq/<queue>`: its messages
 * (id, task, the queue each came from, why, attempts, when, and the stored error with a result
 * backend), read without consuming them and asked again every 5 s; Replay sends the ticked ones,
 * or all (at most `limit`), back where they came from, Purge deletes them after asking. What
 * `nori dlq ls|replay|purge` does; read-only mode shows no controls.
 */
import { get, post } from './api.js';
import { fill, h, link, table } from './dom.js';
import type { View, ViewContext } from './view.js';

interface Letter {
  id: string;
  task: string | null;
  queue: string | null;
  reason: string | null;
  attempts: number | null;
  deadLetteredAt: string | null;
  error: string | null;
}

const dlqPath = (queue: string): string => `/dlq/${encodeURIComponent(queue)}`;
const time = (iso: string | null): string => (iso === null ? '' : new Date(iso).toLocaleString(undefined, { hour12: false }));

function queuesView({ root, navigate }: ViewContext): () => void {
  let closed = false;
  const found = h('div', {}, h('p', { class: 'mut' }, 'Looking at the queues…'));
  const name = h('input', { name: 'queue', placeholder: 'queue name', 'aria-label': 'queue name' });
  const form = h('form', { id: 'dlq-open', class: 'controls' }, name, h('button', { type: 'submit' }, 'Open'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (name.value.trim()) navigate(dlqPath(name.value.trim()));
  });
  void get<{ queues: Array<{ name: string; messages: number; from: string }> }>('/dashboard/dlq').then(
    ({ queues }) => {
      if (closed) return;
      const rows = queues.map((q) =>
        h('tr', { 'data-queue': q.name }, h('td', {}, link(dlqPath(q.name), q.name)), h('td', { class: 'num' }, q.messages), h('td', {}, q.from)),
      );
      found.replaceChildren(
        rows.length > 0
          ? table(['Queue', 'Messages', 'Dead-lettered from'], rows, { id: 'dlq-queues' })
          : h('p', { class: 'mut' }, 'No known queue holds dead letters (open one by name below).'),
      );
    },
    (error: unknown) => !closed && found.replaceChildren(h('p', { class: 'error' }, (error as Error).message)),
  );
  fill(root, h('h1', {}, 'Dead letters'), h('section', {}, h('h2', {}, 'Dead-letter queues'), found), h('section', {}, h('h2', {}, 'Open a queue'), form));
  return () => {
    closed = true;
  };
}

function queueView({ root, config, notice }: ViewContext, queue: string): () => void {
  let closed = false;
  const picked = new Set<string>();
  const path = `/dashboard/dlq/${encodeURIComponent(queue)}`;
  const body = h('div', {}, h('p', { class: 'mut' }, 'Reading the queue…'));
  const limit = h('input', { class: 'small', name: 'limit', type: 'number', min: 1, placeholder: 'limit', 'aria-label': 'at most this many' });
  const buttons: HTMLButtonElement[] = [];
  const sync = (): void => {
    for (const b of buttons) if (b.dataset['picked'] !== undefined) b.disabled = picked.size === 0;
  };
  const act = (what: Promise<string>): void =>
    void what.then(
      (message) => {
        notice(message);
        picked.clear();
        void load();
      },
      (error: unknown) => {
        notice((error as Error).message, true);
        void load();
      },
    );
  const ids = (): Record<string, string> => ({ id: [...picked].join(',') });
  const button = (label: string, attrs: Record<string, string | boolean>, run: () => void): HTMLButtonElement => {
    const b = h('button', { ...attrs, onclick: run }, label);
    buttons.push(b);
    return b;
  };
  const controls = config.readOnly
    ? null
    : h(
        'div',
        { class: 'controls' },
        button('Replay selected', { id: 'replay-selected', 'data-picked': true }, () => act(post(`${path}/replay`, ids()))),
        button('Replay all', { id: 'replay-all' }, () => act(post(`${path}/replay`, limit.value ? { limit: limit.value } : {}))),
        limit,
        h('span', { class: 'sep' }),
        button('Purge selected', { id: 'purge-selected', class: 'danger', 'data-picked': true }, () => {
          if (window.confirm(`Delete ${picked.size} message(s) of ${queue} for good?`)) act(post(`${path}/purge`, ids()));
        }),
        button('Purge all', { id: 'purge-all', class: 'danger' }, () => {
          if (window.confirm(`Delete every message of ${queue} for good?`)) act(post(`${path}/purge`, { all: 'true' }));
        }),
      );
  const load = async (): Promise<void> => {
    try {
      const q = await get<{ messages: number; letters: Letter[] }>(path);
      if (closed) return;
      for (const id of picked) if (!q.letters.some((l) => l.id === id)) picked.delete(id);
      const rows = q.letters.map((l) => {
        const box = h('input', { type: 'checkbox', name: 'pick', 'aria-label': `select ${l.id}`, checked: picked.has(l.id) });
        box.addEventListener('change', () => {
          if (box.checked) picked.add(l.id);
          else picked.delete(l.id);
          sync();
        });
        return h(
          'tr',
          { 'data-id': l.id },
          config.readOnly ? null : h('td', {}, box),
          h('td', { class: 'id' }, l.id),
          h('td', {}, l.task ?? ''),
          h('td', {}, l.queue ?? '?'),
          h('td', {}, l.reason ?? '?'),
          h('td', { class: 'num' }, l.attempts ?? ''),
          h('td', {}, time(l.deadLetteredAt)),
          config.backend ? h('td', { class: 'error' }, l.error ?? '') : null,
        );
      });
      const head = [...(config.readOnly ? [] : ['']), 'Id', 'Task', 'From', 'Reason', 'Attempts', 'Dead-lettered', ...(config.backend ? ['Error'] : [])];
      body.replaceChildren(
        rows.length > 0 ? table(head, rows, { id: 'dlq-messages' }) : h('p', { class: 'mut' }, 'No messages.'),
        h('p', { class: 'mut' }, `${q.letters.length} of ${q.messages} shown, none consumed; at ${new Date().toLocaleTimeString()}`),
      );
      sync();
    } catch (error) {
      if (!closed) body.replaceChildren(h('p', { class: 'error' }, (error as Error).message));
    }
  };
  fill(root, h('h1', {}, `Dead letters in ${queue}`), h('section', {}, controls, body));
  void load();
  const timer = window.setInterval(() => void load(), 5000);
  return () => {
    closed = true;
    window.clearInterval(timer);
  };
}

export const dlqView: View = (ctx, queue) => (queue ? queueView(ctx, queue) : queuesView(ctx));
