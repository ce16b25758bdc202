/**
 * `/worker/<name>`: one worker as remote control reports it (`/api/workers?workername=`): its pool,
 * queues, registered tasks with their limits, what it runs and holds, its stats and config, with
 * Flower's controls (pool grow/shrink/autoscale/restart, add/cancel a consumer, rate and time
 * limits per task, shutdown) unless the server is read-only. Gathered again every 10 s and after
 * each control; the online badge follows the heartbeats.
 */
import { get, post } from './api.js';
import { fields, fill, h, json, link, statusBadge, table, taskPath, type Child } from './dom.js';
import type { View } from './view.js';

type Details = Record<string, unknown>;
type Request = { id?: string; name?: string; args?: unknown; time_start?: number | null; eta?: string; request?: Request };

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const asObject = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function requests(title: string, list: Request[]): HTMLElement {
  const rows = list.map((r) => {
    const q = r.request ?? r;
    return h(
      'tr',
      {},
      h('td', {}, q.id ? link(taskPath(q.id), q.id) : ''),
      h('td', {}, q.name ?? ''),
      h('td', {}, json(q.args ?? '')),
      h('td', {}, r.eta ?? ''),
    );
  });
  return h(
    'section',
    {},
    h('h2', {}, `${title} (${list.length})`),
    rows.length > 0 ? table(['Id', 'Name', 'Args', 'ETA'], rows) : h('p', { class: 'mut' }, 'None.'),
  );
}

export const workerView: View = (ctx, name) => {
  const { root, live, config } = ctx;
  let closed = false;
  const status = h('span', {});
  const showStatus = (): void => {
    const w = live.workers.get(name);
    status.replaceChildren(statusBadge(!!w && live.alive(w)));
  };

  const act = (label: string, run: () => Promise<string>, then?: () => void): (() => Promise<void>) => {
    return async () => {
      try {
        ctx.notice(`${label}: ${await run()}`);
        then?.();
      } catch (error) {
        ctx.notice(`${label}: ${(error as Error).message}`, true);
      }
      window.setTimeout(load, 300);
    };
  };
  const control = (path: string, params: Record<string, string | number> = {}): Promise<string> =>
    post(`/api/worker/${path}/${encodeURIComponent(name)}`, params);
  const number = (id: string, value: number, min = 0): HTMLInputElement => h('input', { id, type: 'number', min, value, class: 'small' });
  const button = (label: string, onclick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement => h('button', { onclick, ...attrs }, label);

  const draw = (d: Details): void => {
    const stats = asObject(d['stats']);
    const pool = asObject(stats['pool']);
    const queues = asArray<{ name: string; exchange?: { name?: string; type?: string }; routing_key?: string }>(d['active_queues']);
    const registered = asArray<string>(d['registered']).map((r) => r.split(' ')[0]!);
    const writable = !config.readOnly;

    const n = number('pool-n', 1, 1);
    const min = number('autoscale-min', 1);
    const max = number('autoscale-max', Number(pool['max-concurrency'] ?? 1), 1);
    const poolControls: Child = writable
      ? h(
          'div',
          { class: 'controls' },
          n,
          button(
            'Grow',
            act('Grow', () => control('pool/grow', { n: n.valueAsNumber })),
            { id: 'pool-grow' },
          ),
          button(
            'Shrink',
            act('Shrink', () => control('pool/shrink', { n: n.valueAsNumber })),
            { id: 'pool-shrink' },
          ),
          h('span', { class: 'sep' }),
          'min',
          min,
          'max',
          max,
          button(
            'Autoscale',
            act('Autoscale', () => control('pool/autoscale', { min: min.valueAsNumber, max: max.valueAsNumber })),
          ),
          h('span', { class: 'sep' }),
          button(
            'Restart pool',
            act('Restart pool', () => control('pool/restart')),
          ),
          button(
            'Shut down',
            act('Shut down', () => (window.confirm(`Shut down ${name}?`) ? control('shutdown') : Promise.resolve('cancelled'))),
            { class: 'danger', id: 'shutdown' },
          ),
        )
      : null;

    const queueName = h('input', { id: 'queue-name', placeholder: 'queue name' });
    const queueRows = queues.map((q) =>
      h(
        'tr',
        { 'data-queue': q.name },
        h('td', {}, q.name),
        h('td', {}, `${q.exchange?.name ?? ''}(${q.exchange?.type ?? ''})`),
        h('td', {}, q.routing_key ?? ''),
        h(
          'td',
          {},
          writable
            ? button(
                'Cancel consumer',
                act(`Cancel ${q.name}`, () => control('queue/cancel-consumer', { queue: q.name })),
              )
            : '',
        ),
      ),
    );

    const limitRows = registered.map((task) => {
      const rate = h('input', { placeholder: '10/m', class: 'small', 'aria-label': `rate limit of ${task}` });
      const soft = h('input', { type: 'number', min: 0, placeholder: 'soft s', class: 'small', 'aria-label': `soft time limit of ${task}` });
      const hard = h('input', { type: 'number', min: 0, placeholder: 'hard s', class: 'small', 'aria-label': `hard time limit of ${task}` });
      const path = encodeURIComponent(task);
      return h(
        'tr',
        { 'data-task': task },
        h('td', {}, task),
        h(
          'td',
          {},
          writable
            ? h(
                'div',
                { class: 'controls' },
                rate,
                button(
                  'Set',
                  act(`Rate limit of ${task}`, () => post(`/api/task/rate-limit/${path}`, { ratelimit: rate.value, workername: name })),
                ),
              )
            : '',
        ),
        h(
          'td',
          {},
          writable
            ? h(
                'div',
                { class: 'controls' },
                soft,
                hard,
                button(
                  'Set',
                  act(`Time limits of ${task}`, () =>
                    post(`/api/task/timeout/${path}`, { ...(soft.value && { soft: soft.value }), ...(hard.value && { hard: hard.value }), workername: name }),
                  ),
                ),
              )
            : '',
        ),
      );
    });

    const total = Object.entries(asObject(stats['total'])).map(([task, count]) => h('tr', {}, h('td', {}, task), h('td', { class: 'num' }, String(count))));
    const conf = Object.entries(asObject(d['conf'])).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'wrap' }, json(v))));
    const broker = asObject(stats['broker']);

    fill(
      root,
      h('h1', {}, name, ' ', status),
      h(
        'section',
        { id: 'pool' },
        h('h2', {}, 'Pool'),
        fields([
          ['implementation', String(pool['implementation'] ?? '')],
          ['max concurrency', String(pool['max-concurrency'] ?? '')],
          ['processes', asArray<number>(pool['processes']).join(', ')],
          ['prefetch count', String(stats['prefetch_count'] ?? '')],
          ['pid', String(stats['pid'] ?? '')],
          ['uptime', stats['uptime'] === undefined ? '' : `${String(stats['uptime'])} s`],
          ['software', String(stats['sw_ident'] ?? '')],
        ]),
        poolControls,
      ),
      h(
        'section',
        { id: 'queues' },
        h('h2', {}, 'Queues'),
        table(['Queue', 'Exchange', 'Routing key', ''], queueRows, { id: 'queue-table' }),
        writable
          ? h(
              'div',
              { class: 'controls' },
              queueName,
              button(
                'Add consumer',
                act('Add consumer', () => control('queue/add-consumer', { queue: queueName.value })),
                { id: 'add-consumer' },
              ),
            )
          : null,
      ),
      h('section', { id: 'tasks' }, h('h2', {}, `Registered tasks (${registered.length})`), table(['Task', 'Rate limit', 'Time limits (s)'], limitRows)),
      requests('Running', asArray<Request>(d['active'])),
      requests('Reserved', asArray<Request>(d['reserved'])),
      requests('Scheduled', asArray<Request>(d['scheduled'])),
      h('section', {}, h('h2', {}, 'Revoked'), h('p', { class: 'wrap mut' }, asArray<string>(d['revoked']).join(', ') || 'None.')),
      h(
        'section',
        { id: 'stats' },
        h('h2', {}, 'Stats'),
        fields([
          ['broker', `${String(broker['transport'] ?? '')}://${String(broker['hostname'] ?? '')}:${String(broker['port'] ?? '')}`],
          ['clock', String(stats['clock'] ?? '')],
        ]),
        total.length > 0 ? table(['Task', 'Started'], total) : null,
        h('pre', {}, json(stats['rusage'] ?? {})),
      ),
      h('section', { id: 'config' }, h('h2', {}, 'Config'), table(['Setting', 'Value'], conf)),
    );
    showStatus();
  };

  const load = async (): Promise<void> => {
    if (closed) return;
    try {
      const all = await get<Record<string, Details>>(`/api/workers?workername=${encodeURIComponent(name)}&refresh=true`);
      if (!closed) draw(all[name] ?? {});
    } catch (error) {
      if (!closed) root.replaceChildren(h('h1', {}, name), h('p', { class: 'mut' }, (error as Error).message));
    }
  };

  root.replaceChildren(h('h1', {}, name), h('p', { class: 'mut' }, 'Asking the worker…'));
  void load();
  // Not while the operator is typing in one of its fields.
  const timer = window.setInterval(() => !(document.activeElement instanceof HTMLInputElement && root.contains(document.activeElement)) && void load(), 10_000);
  const off = live.on((e) => e.hostname === name && e.type.startsWith('worker-') && showStatus());
  return () => {
    closed = true;
    off();
    window.clearInterval(timer);
  };
};
