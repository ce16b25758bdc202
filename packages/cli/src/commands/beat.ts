/**
 * `nori beat`: runs @nori/tasks' Beat with the schedule the app module exports (`beatSchedule`
 * by default: entry name → { task, schedule: every()/crontab()/at(), args, kwargs, options }).
 * Several may run: one leads and sends, the others take over if it dies. Ends on SIGINT/SIGTERM
 * (a leader gives its lock up).
 */
import type { Command } from 'commander';
import type { BeatEntry } from '@nori/tasks';
import { loadAppModule, type AppSource } from '../load-app.js';
import { Log, type LogOptions } from '../log.js';
import { duration } from '../parse.js';
import { UsageError } from '../errors.js';

interface BeatCliOptions extends AppSource, LogOptions {
  schedule: string;
  name?: string;
  lockTtl?: number;
  store?: string;
}

export function registerBeat(program: Command): void {
  program
    .command('beat')
    .description("send the app's periodic tasks (the schedule exported by the -A module; any number may run, one leads)")
    .option('-S, --schedule <export>', 'name of the module export holding the schedule', 'beatSchedule')
    .option('--name <name>', 'beats with the same name share a lock and state (default "default")')
    .option('--lock-ttl <ms>', 'leader lock lifetime: a dead leader is replaced within it (or 30s)', duration('--lock-ttl', 'ms'))
    .option('--store <url>', "Redis URL of the lock and state (default: the result backend's, else the broker's)")
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<BeatCliOptions>();
      if (!o.app) throw new UsageError('nori beat needs the app module (-A ./app.js) that exports the schedule');
      const { app, exports } = await loadAppModule(o);
      const schedule = exports[o.schedule];
      if (typeof schedule !== 'object' || schedule === null) throw new UsageError(`${o.app} exports no schedule named "${o.schedule}"`);
      const log = Log.of(o, 'info');
      const beat = app.beat({
        schedule: schedule as Record<string, BeatEntry>,
        ...(o.name && { name: o.name }),
        ...(o.lockTtl !== undefined && { lockTtl: o.lockTtl }),
        ...(o.store && { store: o.store }),
      });
      beat.on('tick-sent', (t) =>
        log.info(`Scheduler: Sending due task ${t.entry} (${t.task}) [${t.taskId}] due ${t.due.toISOString()}`, {
          entry: t.entry,
          task: t.task,
          id: t.taskId,
          due: t.due.toISOString(),
        }),
      );
      beat.on('leader', (leading) => log.info(leading ? 'beat: leading, sending due tasks' : 'beat: standing by (another beat leads)'));
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
      log.info(`beat: ${Object.keys(schedule).length} entries: ${Object.keys(schedule).join(', ')}`);
      beat.start();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await beat.stop();
      await app.close();
      log.info('beat stopped');
    });
}
