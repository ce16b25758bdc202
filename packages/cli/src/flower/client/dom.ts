/**
 * Building the page: elements made with `h`, text only ever set as text (never parsed as HTML, so
 * a task's arguments or a worker's name cannot inject anything), links the router follows without
 * reloading, and the small formatters every view shares.
 */
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, kids);
  return e;
}

export function append(parent: Element, kids: readonly Child[]): void {
  for (const k of kids) if (k !== null && k !== undefined && k !== false) parent.append(k instanceof Node ? k : String(k));
}

/** Replaces what `parent` shows (null, undefined and false show nothing). */
export function fill(parent: Element, ...kids: Child[]): void {
  parent.replaceChildren();
  append(parent, kids);
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A link inside the page: the router shows its view without a reload. */
export function link(path: string, ...kids: Child[]): HTMLAnchorElement {
  return h('a', { href: path, 'data-nav': true }, ...kids);
}

export const taskPath = (id: string): string => `/task/${encodeURIComponent(id)}`;
export const workerPath = (name: string): string => `/worker/${encodeURIComponent(name)}`;

/** Celery's own states; any other is one a task reported (updateState / update_state). */
const CELERY_STATES = new Set(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED']);

export const isReported = (state: string): boolean => !CELERY_STATES.has(state);

export function badge(state: string): HTMLSpanElement {
  return h('span', { class: isReported(state) ? 'badge reported' : `badge ${state}` }, state);
}

/** A worker's status (not a task state: `badge` would take 'online' for a state a task reported). */
export const statusBadge = (online: boolean): HTMLSpanElement => h('span', { class: `badge ${online ? 'online' : 'offline'}` }, online ? 'online' : 'offline');

/**
 * A reported state's meta: a bar with `current`/`total` (or `percent`) when it has them, as
 * progress metas usually do, and the meta itself as text.
 */
export function progress(meta: unknown): HTMLSpanElement {
  const m = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : {};
  const { current, total, percent } = m;
  const done =
    typeof current === 'number' && typeof total === 'number' && total > 0 ? current / total : typeof percent === 'number' ? percent / 100 : undefined;
  const label = typeof current === 'number' && typeof total === 'number' ? `${current}/${total}` : (JSON.stringify(meta) ?? '');
  return h(
    'span',
    { class: 'progress' },
    done === undefined ? null : h('progress', { max: 1, value: Math.min(1, Math.max(0, done)) }),
    label.length > 80 ? `${label.slice(0, 79)}…` : label,
  );
}

/** A UNIX time in seconds as the local time (to the second), with the date unless it is today. */
export function when(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '';
  const d = new Date(seconds * 1000);
  const time = d.toLocaleTimeString(undefined, { hour12: false });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

export function runtime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '';
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

/** A definition list of the fields that are set. */
export function fields(rows: ReadonlyArray<[string, Child]>): HTMLDListElement {
  const dl = h('dl', { class: 'fields' });
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === '' || v === false) continue;
    dl.append(h('dt', {}, k), h('dd', { 'data-field': k }, v));
  }
  return dl;
}

/** A table that scrolls sideways on a narrow screen instead of widening the page. */
/** A table whose headers line up with their column: right over the first row's `num` cells. */
export function table(head: readonly string[], rows: readonly HTMLTableRowElement[], attrs: Attrs = {}): HTMLDivElement {
  const num = (i: number): boolean => rows[0]?.cells[i]?.classList.contains('num') ?? false;
  return h(
    'div',
    { class: 'scroll' },
    h('table', attrs, h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', num(i) ? { class: 'num' } : {}, c)))), h('tbody', {}, ...rows)),
  );
}

export function json(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
