/**
 * The beat page's routes (issue 27 item 5): a beat's entries, code and stored, with their last and
 * next runs, and the last changes, read from beat's store as `nori beat ls` reads them (`?name=`,
 * default 'default'); and the changes the page makes to the stored entries, which the leading beat
 * picks up within one tick. Changes take their arguments in the query string or a form, as
 * Flower's routes do: `entry`, and for `entry` the task and one of `every` (ms), `crontab` (with
 * `timezone`) or `at` (ISO date), `args`/`kwargs` (JSON), `queue`, `enabled=false`.
 */
import { TaskConfigError, type Beat, type BeatEntry } from '@nori/tasks';
import { scheduleFrom, type BeatSchedules, type ScheduleSpec } from '@nori/tasks/protocol';
import { HttpError } from '../errors.js';
import { required, type FlowerContext, type Route } from './route.js';

const beatOf = (params: URLSearchParams): { name: string } => ({ name: params.get('beat') ?? params.get('name') ?? 'default' });

function specOf(p: URLSearchParams): ScheduleSpec {
  const every = p.get('every');
  const cron = p.get('crontab');
  const at = p.get('at');
  if ([every, cron, at].filter((v) => v !== null && v !== '').length !== 1) throw new HttpError(400, 'give one of every (ms), crontab or at');
  if (every) return { every: Number(every) };
  if (cron) return { crontab: cron, ...(p.get('timezone') && { timezone: p.get('timezone') as string }) };
  return { at: new Date(at as string).toISOString() };
}

function jsonParam<T>(p: URLSearchParams, name: string, ok: (v: unknown) => v is T): T | undefined {
  const text = p.get(name);
  if (text === null || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, `${name} is not JSON`);
  }
  if (!ok(value)) throw new HttpError(400, `${name} has the wrong type`);
  return value;
}

/** A bad entry (its schedule, its arguments) is the caller's mistake: 400 with the reason. */
async function checked<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TaskConfigError || error instanceof RangeError) throw new HttpError(400, error.message);
    throw error;
  }
}

export function beatRoutes({ app }: FlowerContext): Route[] {
  /** Runs `fn` with the stored schedules of the beat the request names, on a handle made for it (no beat is started). */
  const schedules = async <T>(params: URLSearchParams, fn: (s: BeatSchedules) => Promise<T>): Promise<T> => {
    let beat: Beat;
    try {
      beat = app.beat(beatOf(params));
    } catch (error) {
      // No Redis or MongoDB for beat's store: the page says so.
      if (error instanceof TaskConfigError) throw new HttpError(409, error.message);
      throw error;
    }
    try {
      return await checked(() => fn(beat.schedules));
    } finally {
      await beat.stop();
    }
  };
  return [
    {
      method: 'GET',
      path: /^\/dashboard\/beat$/,
      run: ({ params }) => schedules(params, async (s) => ({ name: beatOf(params).name, entries: await s.list(), changes: await s.changes(20) })),
    },
    {
      method: 'POST',
      path: /^\/dashboard\/beat\/entry$/,
      change: true,
      run: ({ params }) => {
        const name = required(params, 'entry');
        const queue = params.get('queue');
        const args = jsonParam(params, 'args', Array.isArray);
        const kwargs = jsonParam(params, 'kwargs', (v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
        return schedules(params, async (s) => {
          const entry: BeatEntry & { enabled?: boolean } = {
            task: required(params, 'task'),
            schedule: scheduleFrom(specOf(params)),
            ...(args && { args }),
            ...(kwargs && { kwargs }),
            ...(queue && { options: { queue } }),
            ...(params.get('enabled') === 'false' && { enabled: false }),
          };
          await s.upsert(name, entry);
          return { message: `Stored ${name}: ${entry.task} ${entry.schedule.description}` };
        });
      },
    },
    {
      method: 'POST',
      path: /^\/dashboard\/beat\/(enable|disable|remove)$/,
      change: true,
      run: ({ match, params }) => {
        const name = required(params, 'entry');
        const verb = match[1] as 'enable' | 'disable' | 'remove';
        return schedules(params, async (s) => {
          if (!(await s[verb](name))) throw new HttpError(404, verb === 'remove' ? `No stored entry ${name}` : `No entry ${name}`);
          return { message: `${verb === 'remove' ? 'Removed' : verb === 'enable' ? 'Enabled' : 'Disabled'} ${name}` };
        });
      },
    },
  ];
}
