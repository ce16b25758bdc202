/**
 * `nori beat`: runs @nori/tasks' Beat with the schedule the app module exports (`beatSchedule`
 * by default: entry name → { task, schedule: every()/crontab()/at(), args, kwargs, options }) and
 * the entries stored at run time. Several may run: one leads and sends, the others take over if it
 * dies. Ends on SIGINT/SIGTERM (a leader gives its lock up).
 *
 * `nori beat ls|add|rm|enable|disable|changes` change the stored entries (beat.schedules) while
 * beats run: the leader picks each change up within one tick. They find the store as a beat does
 * (`--store`, else the result backend's Redis, else the broker's, else the result backend's
 * MongoDB; `--name` the beat's name).
 */
import type { Command } from 'commander';
import { at, crontab, every, type BeatEntry, type BeatOptions, type Schedule } from '@nori/tasks';
import type { BeatSchedules, ScheduleInfo } from '@nori/tasks/protocol';
import { loadAppModule, type AppSource } from '../load-app.js';
import { Log, type LogOptions } from '../log.js';
import { date, duration, isArray, isObject, jsonOf } from '../parse.js';
import { table } from '../table.js';
import { BeatEntryNotFoundError, UsageError } from '../errors.js';
import { withApp } from '../with-app.js';

interface StoreOptions extends AppSource {
  name?: string;
  store?: string;
}

interface BeatCliOptions extends StoreOptions, LogOptions {
  schedule?: string;
  lockTtl?: number;
}

interface AddOptions extends StoreOptions {
  task: string;
  every?: number;
  crontab?: string;
  timezone?: string;
  at?: Date;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  queue?: string;
  missed?: 'once' | 'all';
  disabled?: boolean;
}

const DEFAULT_SCHEDULE_EXPORT = 'beatSchedule';

function storeOf(o: StoreOptions): Pick<BeatOptions, 'name' | 'store'> {
  return { ...(o.name && { name: o.name }), ...(o.store && { store: o.store }) };
}

/** Runs `fn` with the stored schedules of the beat the options name (no beat is started). */
function withSchedules<T>(o: StoreOptions, fn: (schedules: BeatSchedules) => Promise<T>): Promise<T> {
  return withApp(o, async (app) => {
    const beat = app.beat(storeOf(o));
    try {
      return await fn(beat.schedules);
    } finally {
      await beat.stop();
    }
  });
}

const when = (d: Date | null): string => d?.toISOString() ?? '-';

function printList(infos: readonly ScheduleInfo[]): string {
  if (infos.length === 0) return 'no entries (a code entry shows once a beat has led)';
  return table(
    ['name', 'source', 'enabled', 'task', 'schedule', 'last run', 'next run', 'updated'],
    infos.map((i) => [
      i.name,
      i.overrides ? 'stored (replaces code)' : i.source,
      i.enabled ? 'yes' : 'no',
      i.task,
      i.schedule,
      when(i.lastRun),
      i.enabled ? when(i.nextRun) : '-',
      when(i.updatedAt),
    ]),
  );
}

function scheduleOf(o: AddOptions): Schedule {
  const given = [o.every !== undefined, o.crontab !== undefined, o.at !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('nori beat add needs one of --every, --crontab or --at');
  if (o.timezone !== undefined && o.crontab === undefined) throw new UsageError('--timezone goes with --crontab');
  if (o.every !== undefined) return every(o.every);
  if (o.crontab !== undefined) return crontab(o.crontab, o.timezone === undefined ? {} : { timezone: o.timezone });
  return at(o.at as Date);
}

function registerStoredCommands(beat: Command): void {
  beat
    .command('ls')
    .description('list the entries, code and stored: on/off, last and next run, when each stored one was written')
    .option('-j, --json', 'print them as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<StoreOptions & { json?: boolean }>();
      const infos = await withSchedules(o, (s) => s.list());
      process.stdout.write(`${o.json ? JSON.stringify(infos, null, 2) : printList(infos)}\n`);
    });

  beat
    .command('add <entry>')
    .description('store an entry (or change the one of that name): the leader runs it from its next tick')
    .requiredOption('--task <name>', 'the task to send (nori or Python)')
    .option('--every <duration>', 'an interval: ms, or 30s, 5m, 1h', duration('--every', 'ms'))
    .option('--crontab <expression>', 'a cron expression (5 fields, or 6 with seconds first)')
    .option('--timezone <zone>', 'the IANA zone of --crontab (default UTC)')
    .option('--at <date>', 'once, at this ISO 8601 date', date('--at'))
    .option('--args <json>', 'positional arguments, a JSON array', jsonOf('--args', isArray, 'a JSON array'))
    .option('--kwargs <json>', 'keyword arguments, a JSON object', jsonOf('--kwargs', isObject, 'a JSON object'))
    .option('-Q, --queue <name>', 'send to this queue (default: the task route)')
    .option('--missed <once|all>', 'after downtime send the missed ticks once (default) or all')
    .option('--disabled', 'store it turned off')
    .action(async (entry: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<AddOptions>();
      if (o.missed !== undefined && o.missed !== 'once' && o.missed !== 'all') throw new UsageError(`--missed must be once or all, got "${o.missed}"`);
      const schedule = scheduleOf(o);
      const definition: BeatEntry & { enabled?: boolean } = {
        task: o.task,
        schedule,
        ...(o.args && { args: o.args }),
        ...(o.kwargs && { kwargs: o.kwargs }),
        ...(o.queue && { options: { queue: o.queue } }),
        ...(o.missed && { missed: o.missed }),
        ...(o.disabled && { enabled: false }),
      };
      await withSchedules(o, (s) => s.upsert(entry, definition));
      process.stdout.write(`stored ${entry}: ${o.task} ${schedule.description}${o.disabled ? ' (disabled)' : ''}\n`);
    });

  for (const [verb, description, done] of [
    ['rm', 'remove a stored entry (a code entry of that name runs again)', 'removed'],
    ['enable', 'turn an entry (stored or code) on', 'enabled'],
    ['disable', 'turn an entry (stored or code) off: it sends nothing until enabled', 'disabled'],
  ] as const) {
    beat
      .command(`${verb} <entry>`)
      .description(description)
      .action(async (entry: string, _o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<StoreOptions>();
        const found = await withSchedules(o, (s) => (verb === 'rm' ? s.remove(entry) : verb === 'enable' ? s.enable(entry) : s.disable(entry)));
        if (!found)
          throw new BeatEntryNotFoundError(
            verb === 'rm' ? `no stored entry named "${entry}"` : `no entry named "${entry}" (a code entry is known once a beat has led)`,
          );
        process.stdout.write(`${done} ${entry}\n`);
      });
  }

  beat
    .command('changes')
    .description('the last changes of the stored entries, newest first')
    .option('-n, --limit <n>', 'how many (the store keeps 100)', (v) => Number(v), 20)
    .option('-j, --json', 'print them as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<StoreOptions & { json?: boolean; limit: number }>();
      const changes = await withSchedules(o, (s) => s.changes(o.limit));
      const text = table(
        ['at', 'change', 'entry', 'schedule', 'by'],
        changes.map((c) => [new Date(c.at).toISOString(), c.op, c.entry, c.schedule ?? '', c.by]),
      );
      process.stdout.write(`${o.json ? JSON.stringify(changes, null, 2) : text}\n`);
    });
}

export function registerBeat(program: Command): void {
  const beat = program
    .command('beat')
    .description("send the app's periodic tasks: the schedule the -A module exports and the stored entries (any number may run, one leads)")
    .option(
      '-S, --schedule <export>',
      `name of the module export holding the schedule (default ${DEFAULT_SCHEDULE_EXPORT}; without one, only stored entries run)`,
    )
    .option('--name <name>', 'beats with the same name share a lock, state and stored entries (default "default")')
    .option('--lock-ttl <ms>', 'leader lock lifetime: a dead leader is replaced within it (or 30s)', duration('--lock-ttl', 'ms'))
    .option(
      '--store <url>',
      "Redis or MongoDB URL of the lock, state and stored entries (default: the result backend's Redis, else the broker's, else the result backend's MongoDB)",
    )
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<BeatCliOptions>();
      const { app, exports } = await loadAppModule(o);
      const exported = exports[o.schedule ?? DEFAULT_SCHEDULE_EXPORT];
      if (o.schedule !== undefined && (typeof exported !== 'object' || exported === null))
        throw new UsageError(`${o.app ?? 'the app'} exports no schedule named "${o.schedule}"`);
      const schedule = (typeof exported === 'object' && exported !== null ? exported : {}) as Record<string, BeatEntry>;
      const log = Log.of(o, 'info');
      const beat = app.beat({ schedule, ...storeOf(o), ...(o.lockTtl !== undefined && { lockTtl: o.lockTtl }) });
      beat.on('tick-sent', (t) =>
        log.info(`Scheduler: Sending due task ${t.entry} (${t.task}) [${t.taskId}] due ${t.due.toISOString()}`, {
          entry: t.entry,
          task: t.task,
          id: t.taskId,
          due: t.due.toISOString(),
        }),
      );
      beat.on('leader', (leading) => log.info(leading ? 'beat: leading, sending due tasks' : 'beat: standing by (another beat leads)'));
      beat.on('schedules', (s) => log.info(`beat: schedule version ${s.version}: ${s.entries.join(', ') || 'no entries'}`, { version: s.version }));
      beat.on('error', (e, t) => {
        if (!t) return log.failure(e);
        // Celery's beat words it "Message Error"; the tick is skipped and the others go on.
        log.error(`Scheduler: Message Error: ${t.entry} (${t.task}) due ${t.due.toISOString()}: ${e.message}`, {
          entry: t.entry,
          task: t.task,
          id: t.taskId,
          due: t.due.toISOString(),
        });
      });
      const names = Object.keys(schedule);
      log.info(`beat: ${names.length} code entries${names.length > 0 ? `: ${names.join(', ')}` : ''}; stored entries as the store has them`);
      beat.start();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await beat.stop();
      await app.close();
      log.info('beat stopped');
    });
  registerStoredCommands(beat);
}
