/**
 * The page's start: reads the server's mode and the workers seen, opens the live stream, and shows
 * the view the address names (Flower's paths: /, /workers, /worker/<name>, /tasks, /task/<id>,
 * /broker; and /beat, /dlq). Links inside the page change the view without a reload; back and forward work.
 */
import { get, post, type Config } from './api.js';
import { beatView } from './beat-view.js';
import { brokerView } from './broker-view.js';
import { dlqView } from './dlq-view.js';
import { h } from './dom.js';
import { Live } from './live.js';
import { taskView } from './task-view.js';
import { tasksView } from './tasks-view.js';
import type { View, ViewContext } from './view.js';
import { workerView } from './worker-view.js';
import { workersView } from './workers-view.js';

const ROUTES: ReadonlyArray<[RegExp, View, string]> = [
  [/^\/(?:workers)?$/, workersView, 'workers'],
  [/^\/worker\/(.+)$/, workerView, 'workers'],
  [/^\/tasks$/, tasksView, 'tasks'],
  [/^\/task\/(.+)$/, taskView, 'tasks'],
  [/^\/broker$/, brokerView, 'broker'],
  [/^\/beat$/, beatView, 'beat'],
  [/^\/dlq(?:\/(.+))?$/, dlqView, 'dlq'],
];

const byId = (id: string): HTMLElement => document.getElementById(id)!;

async function start(): Promise<void> {
  const config = await get<Config>('/dashboard/config');
  const live = new Live();
  for (const w of await get<
    Array<{ hostname: string; alive: boolean; active: number | null; processed: number | null; loadavg: number[] | null; sw_ident: string | null }>
  >('/dashboard/workers')) {
    live.seed({
      hostname: w.hostname,
      online: w.alive,
      freq: 2,
      seen: w.alive ? Date.now() : 0,
      ...(w.active !== null && { active: w.active }),
      ...(w.processed !== null && { processed: w.processed }),
      ...(w.loadavg && { loadavg: w.loadavg }),
      ...(w.sw_ident && { sw: w.sw_ident }),
    });
  }
  byId('mode').textContent = config.readOnly ? 'read-only' : '';
  if (config.user) byId('user').textContent = config.user;
  if (config.signIn) {
    const out = h('button', { id: 'sign-out', class: 'link' }, 'Sign out');
    out.addEventListener('click', () => void post('/logout').then(() => location.assign('/login')));
    byId('status').append(out);
  }
  live.connect(byId('live'));

  const root = byId('view');
  const notice = byId('notice');
  let stop: (() => void) | void;
  const show = (): void => {
    stop?.();
    notice.replaceChildren();
    const path = location.pathname;
    const found = ROUTES.map(([re, view, section]) => [re.exec(path), view, section] as const).find(([m]) => m);
    for (const a of document.querySelectorAll('nav a')) a.classList.toggle('here', a.getAttribute('data-section') === found?.[2]);
    if (!found) {
      root.replaceChildren(h('h1', {}, 'Not found'), h('p', { class: 'mut' }, path));
      return;
    }
    const [match, view] = found;
    const ctx: ViewContext = {
      root,
      live,
      config,
      navigate: (to) => {
        history.pushState(null, '', to);
        show();
      },
      notice: (message, failed = false) => notice.replaceChildren(h('p', { class: failed ? 'error' : 'ok' }, message)),
    };
    stop = view(ctx, decodeURIComponent(match![1] ?? ''), new URLSearchParams(location.search));
    window.scrollTo(0, 0);
  };
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest('a[data-nav]');
    if (!a || (e as MouseEvent).ctrlKey || (e as MouseEvent).metaKey || (e as MouseEvent).shiftKey) return;
    e.preventDefault();
    history.pushState(null, '', a.getAttribute('href'));
    show();
  });
  window.addEventListener('popstate', show);
  show();
}

void start().catch((error: unknown) => {
  byId('view').replaceChildren(h('h1', {}, 'nori flower'), h('p', { class: 'error' }, String((error as Error).message ?? error)));
});
