/**
 * `/` and `/workers`: every worker seen (online while its heartbeats come), its load and counts,
 * each a link to its page, and the tasks finished per second over the last minute.
 */
import { h, link, statusBadge, svg, table, workerPath } from './dom.js';
import type { LiveWorker } from './live.js';
import { throttle, type View } from './view.js';

/**
 * The SVG stretches to the section's width (preserveAspectRatio none, its height fixed at H px), so
 * its axis labels are HTML beside it: SVG text would stretch with the plot.
 */
function chart(finished: ReadonlyMap<number, number>): [HTMLDivElement, string] {
  const now = Math.floor(Date.now() / 1000);
  const W = 600;
  const H = 150;
  const P = 28;
  const points: number[] = [];
  for (let i = 59; i >= 0; i--) points.push(finished.get(now - i) ?? 0);
  const max = Math.max(1, ...points);
  const x = (i: number): number => P + (i * (W - P - 6)) / 59;
  const y = (v: number): number => H - 18 - (v * (H - 30)) / max;
  const line = points.map((v, i) => `${x(i)},${y(v)}`).join(' ');
  const plot = svg('svg', { id: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'tasks finished per second' });
  plot.append(
    svg('line', { x1: P, y1: y(0), x2: W - 6, y2: y(0), stroke: '#dde1e7' }),
    svg('polygon', { points: `${x(0)},${y(0)} ${line} ${x(59)},${y(0)}`, fill: '#1f6fd122' }),
    svg('polyline', { points: line, fill: 'none', stroke: '#1f6fd1', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }),
  );
  // Placed through CSSOM: the page's CSP refuses style attributes.
  const label = (text: string, at: Partial<CSSStyleDeclaration>): HTMLSpanElement => {
    const span = h('span', {}, text);
    Object.assign(span.style, at);
    return span;
  };
  const root = h(
    'div',
    { class: 'chart' },
    plot,
    label(String(max), { left: '2px', top: `${y(max) - 7}px` }),
    label('0', { left: '2px', top: `${y(0) - 7}px` }),
    label('60 s ago', { left: `${(P / W) * 100}%`, bottom: '0' }),
    label('now', { right: '6px', bottom: '0' }),
  );
  const rate = points.slice(-10).reduce((a, b) => a + b, 0) / 10;
  return [root, `${rate} tasks/s (last 10 s)`];
}

export const workersView: View = ({ root, live }) => {
  const rows = (): HTMLTableRowElement[] =>
    [...live.workers.values()]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((w: LiveWorker) => {
        const on = live.alive(w);
        return h(
          'tr',
          { class: 'worker', 'data-hostname': w.hostname },
          h('td', {}, link(workerPath(w.hostname), w.hostname)),
          h('td', {}, statusBadge(on)),
          h('td', { class: 'num' }, w.active ?? ''),
          h('td', { class: 'num' }, w.processed ?? ''),
          h('td', {}, (w.loadavg ?? []).map((n) => n.toFixed(2)).join(' ')),
          h('td', { class: 'mut' }, w.sw ?? ''),
        );
      });
  const draw = (): void => {
    const [graph, rate] = chart(live.finished);
    const list = rows();
    root.replaceChildren(
      h('h1', {}, 'Workers'),
      h(
        'section',
        {},
        h('h2', {}, 'Workers ', h('span', { class: 'mut' }, `${[...live.workers.values()].filter((w) => live.alive(w)).length} online`)),
        list.length > 0
          ? table(['Worker', 'Status', 'Active', 'Processed', 'Load', 'Software'], list, { id: 'workers' })
          : h('p', { class: 'mut' }, 'No worker seen yet (start one with -E, or wait for its heartbeat).'),
      ),
      h('section', {}, h('h2', {}, 'Throughput ', h('span', { id: 'rate', class: 'mut' }, rate)), graph),
    );
  };
  draw();
  const redraw = throttle(draw, 300);
  const off = live.on((e) => e.type.startsWith('worker-') && redraw());
  const tick = window.setInterval(draw, 1000);
  return () => {
    off();
    redraw.cancel();
    window.clearInterval(tick);
  };
};
