/**
 * `/metrics` through prom-client: Flower's families (flower/events.py), same names, labels, buckets
 * and update rules, beside the process and Node runtime metrics Prometheus users expect
 * (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`,
 * `nodejs_heap_size_used_bytes`, ...). Each server has a registry of its own.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CeleryEvent } from '@nori/tasks/events';

/** Python prometheus_client's default buckets, Flower's default for task runtime. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface TaskTimes {
  received?: number;
  started?: number;
  eta?: unknown;
}

export class Metrics {
  readonly #registry = new Registry();
  readonly #events = new Counter({
    name: 'flower_events_total',
    help: 'Number of events',
    labelNames: ['worker', 'type', 'task'],
    registers: [this.#registry],
  });
  readonly #runtime = new Histogram({
    name: 'flower_task_runtime_seconds',
    help: 'Task runtime',
    labelNames: ['worker', 'task'],
    buckets: BUCKETS,
    registers: [this.#registry],
  });
  readonly #prefetchTime = new Gauge({
    name: 'flower_task_prefetch_time_seconds',
    help: 'The time the task spent waiting at the celery worker to be executed.',
    labelNames: ['worker', 'task'],
    registers: [this.#registry],
  });
  readonly #prefetched = new Gauge({
    name: 'flower_worker_prefetched_tasks',
    help: 'Number of tasks of given type prefetched at a worker',
    labelNames: ['worker', 'task'],
    registers: [this.#registry],
  });
  readonly #online = new Gauge({ name: 'flower_worker_online', help: 'Worker online status', labelNames: ['worker'], registers: [this.#registry] });
  readonly #executing = new Gauge({
    name: 'flower_worker_number_of_currently_executing_tasks',
    help: 'Number of tasks currently executing at a worker',
    labelNames: ['worker'],
    registers: [this.#registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.#registry });
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  /** `task` is what the monitor knows of the event's task after applying the event. */
  event(e: CeleryEvent, taskName: string, task: TaskTimes | undefined): void {
    const worker = e.hostname;
    if (e.type.startsWith('task-')) {
      this.#events.labels(worker, e.type, taskName).inc();
      const runtime = typeof e['runtime'] === 'number' ? e['runtime'] : 0;
      if (runtime) this.#runtime.labels(worker, taskName).observe(runtime);
      const timed = !task?.eta && task?.received;
      if (e.type === 'task-received' && timed) this.#prefetched.labels(worker, taskName).inc();
      if (e.type === 'task-started' && timed && task.started) {
        this.#prefetchTime.labels(worker, taskName).set(task.started - task.received!);
        this.#prefetched.labels(worker, taskName).dec();
      }
      if ((e.type === 'task-succeeded' || e.type === 'task-failed') && timed && task.started) this.#prefetchTime.labels(worker, taskName).set(0);
    }
    if (e.type === 'worker-online') this.#online.labels(worker).set(1);
    if (e.type === 'worker-heartbeat') {
      this.#online.labels(worker).set(1);
      if (typeof e['active'] === 'number') this.#executing.labels(worker).set(e['active']);
    }
    if (e.type === 'worker-offline') this.#online.labels(worker).set(0);
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }
}
