/** One entry of beat's schedule (Celery's beat_schedule entry). */
import type { ApplyOptions } from '../task.js';
import type { Schedule } from './schedule.js';

export interface BeatEntry {
  /** Task name (nori or Python). */
  task: string;
  schedule: Schedule;
  args?: readonly unknown[];
  kwargs?: Readonly<Record<string, unknown>>;
  options?: ApplyOptions;
  /** After downtime: send the missed ticks 'once' (default) or 'all' of them. */
  missed?: 'once' | 'all';
}
