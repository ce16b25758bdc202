/**
 * What a worker prints when it starts, as Celery's worker does: its node name and version, where
 * tasks come from and results go (passwords masked), its concurrency and pool, whether it sends
 * events, its queues with their bindings, and its tasks.
 */
import { arch, platform } from 'node:os';
import { maskUrl } from '@nori/core';
import type { App, Worker } from '@nori/tasks';
import { VERSION } from './version.js';

export interface BannerFields {
  hostname: string;
  version: string;
  app: string | null;
  transport: string;
  results: string;
  concurrency: number;
  pool: string;
  events: boolean;
  queues: Array<{ name: string; exchange: string | null; type: string | null; key: string }>;
  tasks: string[];
}

export function bannerFields(app: App, worker: Worker, o: { app?: string; pool: string; events: boolean }): BannerFields {
  const broker = app.conf.broker;
  return {
    hostname: worker.hostname,
    version: VERSION,
    app: o.app ?? null,
    transport: maskUrl(typeof broker === 'string' ? broker : broker.join(';')),
    results: app.conf.backend === undefined ? 'disabled://' : maskUrl(app.conf.backend),
    concurrency: worker.concurrency,
    pool: o.pool,
    events: o.events,
    queues: worker.queues.map((q) => {
      const b = q.bindings[0];
      return { name: q.name, exchange: b?.exchange.name ?? null, type: b?.exchange.type ?? null, key: b?.routingKey ?? q.name };
    }),
    tasks: [...app.tasks.keys()].filter((t) => !t.startsWith('celery.')).sort(),
  };
}

export function banner(f: BannerFields): string {
  const width = Math.max(16, ...f.queues.map((q) => q.name.length + 1));
  return [
    `nori worker ${f.hostname} v${f.version} (Node ${process.version}, ${platform()} ${arch()})`,
    '',
    '[config]',
    ...(f.app ? [`.> app:         ${f.app}`] : []),
    `.> transport:   ${f.transport}`,
    `.> results:     ${f.results}`,
    `.> concurrency: ${f.concurrency} (${f.pool})`,
    `.> task events: ${f.events ? 'ON' : 'OFF (enable -E to monitor tasks in this worker)'}`,
    '',
    '[queues]',
    ...f.queues.map(
      (q) => `.> ${q.name.padEnd(width)} ${q.exchange === null ? 'no binding' : `exchange=${q.exchange || '(default)'}(${q.type}) key=${q.key}`}`,
    ),
    '',
    '[tasks]',
    ...(f.tasks.length > 0 ? f.tasks.map((t) => `  . ${t}`) : ['  (none)']),
    '',
    '',
  ].join('\n');
}
