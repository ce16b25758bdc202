/**
 * `/broker`: the broker the server watches (its URL and failover list, without passwords) and every
 * queue the app declares or a worker consumes: its ready messages, asked of the broker through
 * nori's transport (so Redis, RabbitMQ and MongoDB alike), and the workers consuming it. Asked
 * again every 5 s.
 */
import { get } from './api.js';
import { fields, h, link, table, when, workerPath } from './dom.js';
import type { View } from './view.js';

interface Broker {
  transport: string;
  url: string;
  alternates: string[];
  queues: Array<{ name: string; messages: number | null; workers: string[] }>;
}

export const brokerView: View = ({ root }) => {
  let closed = false;
  const about = h('div', {});
  const body = h('div', {}, h('p', { class: 'mut' }, 'Asking the broker…'));
  const load = async (): Promise<void> => {
    try {
      const b = await get<Broker>('/dashboard/broker');
      if (closed) return;
      about.replaceChildren(
        fields([
          ['transport', b.transport],
          ['url', b.url],
          ['failover', b.alternates.length > 1 ? b.alternates.join('\n') : null],
        ]),
      );
      const rows = b.queues.map((q) =>
        h(
          'tr',
          { 'data-queue': q.name },
          h('td', {}, q.name),
          h('td', { class: 'num' }, q.messages ?? h('span', { class: 'mut' }, 'no such queue')),
          h('td', {}, ...q.workers.flatMap((w, i) => [i > 0 ? ', ' : '', link(workerPath(w), w)])),
        ),
      );
      body.replaceChildren(
        table(['Queue', 'Ready messages', 'Consumed by'], rows, { id: 'queue-lengths' }),
        h('p', { class: 'mut' }, `At ${when(Date.now() / 1000)}`),
      );
    } catch (error) {
      if (!closed) body.replaceChildren(h('p', { class: 'error' }, (error as Error).message));
    }
  };
  root.replaceChildren(h('h1', {}, 'Broker'), h('section', {}, about, h('h2', {}, 'Queues'), body));
  void load();
  const timer = window.setInterval(() => void load(), 5000);
  return () => {
    closed = true;
    window.clearInterval(timer);
  };
};
