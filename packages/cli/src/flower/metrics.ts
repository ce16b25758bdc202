/**
 * Flower's Prometheus metrics (flower/events.py), same names, labels and update rules, as text
 * exposition format 0.0.4. Fed one event at a time with the task's name and whether it has an ETA.
 */
import type { CeleryEvent } from '@nori/tasks';

/** Prometheus' default buckets, Flower's default for task runtime. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const key = (...labels: string[]): string => JSON.stringify(labels);
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export interface TaskTimes {
  received?: number;
  started?: number;
  eta?: unknown;
}

export class Metrics {
  readonly #events = new Map<string, number>();
  readonly #runtime = new Map<string, Histogram>();
  readonly #prefetchTime = new Map<string, number>();
  readonly #prefetched = new Map<string, number>();
  readonly #online = new Map<string, number>();
  readonly #executing = new Map<string, number>();

  /** `task` is what the monitor knows of the event's task after applying the event. */
  event(e: CeleryEvent, taskName: string, task: TaskTimes | undefined): void {
    const worker = e.hostname;
    if (e.type.startsWith('task-')) {
      const k = key(worker, e.type, taskName);
      this.#events.set(k, (this.#events.get(k) ?? 0) + 1);
      const wt = key(worker, taskName);
      const runtime = typeof e['runtime'] === 'number' ? e['runtime'] : 0;
      if (runtime) this.#observe(wt, runtime);
      const noEta = !task?.eta;
      if (e.type === 'task-received' && noEta && task?.received) this.#prefetched.set(wt, (this.#prefetched.get(wt) ?? 0) + 1);
      if (e.type === 'task-started' && noEta && task?.started && task.received) {
        this.#prefetchTime.set(wt, task.started - task.received);
        this.#prefetched.set(wt, (this.#prefetched.get(wt) ?? 0) - 1);
      }
      if ((e.type === 'task-succeeded' || e.type === 'task-failed') && noEta && task?.started && task.received) this.#prefetchTime.set(wt, 0);
    } else {
      // Flower counts worker events too (task label empty).
      const k = key(worker, e.type, '');
      this.#events.set(k, (this.#events.get(k) ?? 0) + 1);
    }
    if (e.type === 'worker-online') this.#online.set(key(worker), 1);
    if (e.type === 'worker-heartbeat') {
      this.#online.set(key(worker), 1);
      if (typeof e['active'] === 'number') this.#executing.set(key(worker), e['active']);
    }
    if (e.type === 'worker-offline') this.#online.set(key(worker), 0);
  }

  #observe(k: string, value: number): void {
    let h = this.#runtime.get(k);
    if (!h) this.#runtime.set(k, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => {
      if (value <= b) h.counts[i]!++;
    });
    h.sum += value;
    h.count++;
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    const labels = (names: string[], k: string, extra = ''): string => {
      const values = JSON.parse(k) as string[];
      return `{${[...names.map((n, i) => `${n}="${esc(values[i]!)}"`), ...(extra ? [extra] : [])].join(',')}}`;
    };
    const family = (name: string, help: string, type: string, names: string[], m: Map<string, number>): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [k, v] of m) out.push(`${name}${labels(names, k)} ${v}`);
    };
    family('flower_events_total', 'Number of events', 'counter', ['worker', 'type', 'task'], this.#events);
    out.push('# HELP flower_task_runtime_seconds Task runtime', '# TYPE flower_task_runtime_seconds histogram');
    for (const [k, h] of this.#runtime) {
      BUCKETS.forEach((b, i) => out.push(`flower_task_runtime_seconds_bucket${labels(['worker', 'task'], k, `le="${b}"`)} ${h.counts[i]}`));
      out.push(`flower_task_runtime_seconds_bucket${labels(['worker', 'task'], k, 'le="+Inf"')} ${h.count}`);
      out.push(
        `flower_task_runtime_seconds_count${labels(['worker', 'task'], k)} ${h.count}`,
        `flower_task_runtime_seconds_sum${labels(['worker', 'task'], k)} ${h.sum}`,
      );
    }
    family(
      'flower_task_prefetch_time_seconds',
      'The time the task spent waiting at the celery worker to be executed.',
      'gauge',
      ['worker', 'task'],
      this.#prefetchTime,
    );
    family('flower_worker_prefetched_tasks', 'Number of tasks of given type prefetched at a worker', 'gauge', ['worker', 'task'], this.#prefetched);
    family('flower_worker_online', 'Worker online status', 'gauge', ['worker'], this.#online);
    family('flower_worker_number_of_currently_executing_tasks', 'Number of tasks currently executing at a worker', 'gauge', ['worker'], this.#executing);
    return `${out.join('\n')}\n`;
  }
}
