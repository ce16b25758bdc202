/**
 * `/task/<id>`: one task as the events describe it (`/api/task/info`): name, state, arguments,
 * result or exception with its traceback, the timeline of its states, where it ran, its parent,
 * root and children, and the result its backend stored; Revoke and Terminate while it has not
 * finished (unless read-only). Drawn again when an event about it arrives.
 */
import { ApiError, get, post } from './api.js';
import { badge, fields, fill, h, isReported, json, link, progress, runtime, table, taskPath, when, workerPath, type Child } from './dom.js';
import { throttle, type View } from './view.js';

type Info = Record<string, unknown> & { uuid: string; state: string };

const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);
const TIMELINE: ReadonlyArray<[string, string]> = [
  ['sent', 'PENDING'],
  ['received', 'RECEIVED'],
  ['started', 'STARTED'],
  ['retried', 'RETRY'],
  ['succeeded', 'SUCCESS'],
  ['failed', 'FAILURE'],
  ['revoked', 'REVOKED'],
  ['rejected', 'REJECTED'],
];

const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

function timeline(info: Info): HTMLElement {
  const steps = TIMELINE.map(([field, state]) => [state, info[field]] as const)
    .filter((s): s is readonly [string, number] => typeof s[1] === 'number')
    .sort((a, b) => a[1] - b[1]);
  const first = steps[0]?.[1];
  const rows = steps.map(([state, at]) =>
    h(
      'tr',
      { 'data-state': state },
      h('td', {}, badge(state)),
      h('td', {}, when(at)),
      h('td', { class: 'num mut' }, first === undefined ? '' : `+${runtime(at - first)}`),
    ),
  );
  return h(
    'section',
    { id: 'timeline' },
    h('h2', {}, 'Timeline'),
    rows.length > 0 ? table(['State', 'At', 'After the first'], rows) : h('p', { class: 'mut' }, 'No event yet.'),
  );
}

export const taskView: View = (ctx, id) => {
  const { root, live, config } = ctx;
  let closed = false;

  const draw = async (): Promise<void> => {
    let info: Info;
    try {
      info = await get<Info>(`/api/task/info/${encodeURIComponent(id)}`);
    } catch (error) {
      if (closed) return;
      const unknown = error instanceof ApiError && error.status === 404;
      root.replaceChildren(h('h1', {}, 'Task'), h('p', { class: 'mut' }, unknown ? `No event about ${id} yet.` : (error as Error).message));
      return;
    }
    let stored: Child = null;
    if (config.backend) {
      try {
        const r = await get<{ state: string; result: unknown; traceback?: string }>(`/api/task/result/${encodeURIComponent(id)}`);
        stored = h(
          'section',
          { id: 'stored' },
          h('h2', {}, 'Stored result'),
          fields([
            ['state', badge(r.state)],
            ['result', text(r.result)],
            ['traceback', r.traceback ? h('pre', {}, r.traceback) : null],
          ]),
        );
      } catch {
        stored = null;
      }
    }
    if (closed) return;
    const act = (label: string, terminate: boolean) => async (): Promise<void> => {
      try {
        ctx.notice(`${label}: ${await post(`/api/task/revoke/${encodeURIComponent(id)}`, terminate ? { terminate: 'true' } : {})}`);
      } catch (error) {
        ctx.notice(`${label}: ${(error as Error).message}`, true);
      }
      window.setTimeout(() => void draw(), 300);
    };
    const children = Array.isArray(info['children']) ? (info['children'] as string[]) : [];
    const idLink = (v: unknown): Child => (typeof v === 'string' && v !== id ? link(taskPath(v), v) : null);
    fill(
      root,
      h('h1', {}, String(info['name'] ?? 'Task'), ' ', h('span', { id: 'task-state' }, badge(info.state))),
      !config.readOnly && !READY.has(info.state)
        ? h(
            'div',
            { class: 'controls' },
            h('button', { id: 'revoke', onclick: act('Revoke', false) }, 'Revoke'),
            h('button', { id: 'terminate', class: 'danger', onclick: act('Terminate', true) }, 'Terminate'),
          )
        : null,
      h(
        'section',
        { id: 'detail' },
        h('h2', {}, 'Task'),
        fields([
          ['uuid', info.uuid],
          ['name', text(info['name'])],
          ['state', text(info.state)],
          ['progress', isReported(info.state) ? progress(info['meta']) : null],
          ['args', text(info['args'])],
          ['kwargs', text(info['kwargs'])],
          ['result', text(info['result'])],
          ['exception', text(info['exception'])],
          ['worker', typeof info['worker'] === 'string' ? link(workerPath(info['worker']), info['worker']) : null],
          ['runtime', runtime(info['runtime'] as number | null)],
          ['retries', text(info['retries'])],
          ['eta', text(info['eta'])],
          ['expires', text(info['expires'])],
          ['exchange', text(info['exchange'])],
          ['routing key', text(info['routing_key'])],
          ['parent', idLink(info['parent_id'])],
          ['root', idLink(info['root_id'])],
          ['client', text(info['client'])],
        ]),
        typeof info['traceback'] === 'string' ? h('pre', { id: 'traceback' }, info['traceback']) : null,
      ),
      timeline(info),
      children.length > 0
        ? h('section', { id: 'children' }, h('h2', {}, `Children (${children.length})`), h('ul', {}, ...children.map((c) => h('li', {}, link(taskPath(c), c)))))
        : null,
      stored,
      h('section', {}, h('h2', {}, 'As JSON'), h('pre', { class: 'wrap' }, json(info))),
    );
  };

  root.replaceChildren(h('h1', {}, 'Task'), h('p', { class: 'mut' }, id));
  void draw();
  const redraw = throttle(() => void draw(), 300);
  const off = live.on((e) => (e.uuid === id || e['parent_id'] === id) && redraw());
  return () => {
    closed = true;
    off();
    redraw.cancel();
  };
};
