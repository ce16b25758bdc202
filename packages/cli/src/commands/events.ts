/**
 * `nori events`: follows Celery's events (from nori or Python workers run with -E). On a terminal
 * it redraws a view of the workers and the latest tasks every second; `--dump` prints each event
 * as one line instead (what `celery events --dump` does). Ends on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import type { CeleryEvent, EventState } from '@nori/tasks/events';
import { fromSeconds } from '@nori/tasks/protocol';
import type { AppSource } from '../load-app.js';
import { int } from '../parse.js';
import { withApp } from '../with-app.js';

interface EventsOptions extends AppSource {
  dump?: boolean;
  tasks: number;
}

const STANDARD = new Set(['type', 'hostname', 'timestamp', 'utcoffset', 'pid', 'clock']);

export function dumpLine(e: CeleryEvent): string {
  const fields = Object.fromEntries(Object.entries(e).filter(([k]) => !STANDARD.has(k)));
  return `${new Date(fromSeconds(e.timestamp)).toISOString()} ${e.hostname} ${e.type} ${JSON.stringify(fields)}`;
}

function view(state: EventState, rows: number): string {
  const now = Date.now();
  const lines = [`nori events — ${new Date(now).toISOString()}`, '', 'WORKERS'];
  for (const w of state.workers.values()) {
    lines.push(
      `  ${state.alive(w.hostname, now) ? 'online ' : 'offline'}  ${w.hostname}  active=${w.active ?? '-'} processed=${w.processed ?? '-'} load=${w.loadavg?.join(' ') ?? '-'}`,
    );
  }
  if (state.workers.size === 0) lines.push('  (none seen yet)');
  lines.push('', `TASKS (latest ${rows})`);
  const tasks = [...state.tasks.values()].slice(-rows).reverse();
  for (const t of tasks) lines.push(`  ${t.state.padEnd(8)} ${t.uuid}  ${t.name ?? '?'}  ${t.hostname ?? ''}  ${t.result ?? t.exception ?? ''}`);
  if (tasks.length === 0) lines.push('  (none seen yet)');
  return lines.join('\n');
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('follow task and worker events: a live view, or --dump to print each event')
    .option('--dump', 'print every event as a line')
    .option('--tasks <n>', 'tasks shown in the live view', int('--tasks', 1), 20)
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<EventsOptions>();
      await withApp(o, async (app) => {
        const state = app.events.state();
        const receiver = await app.events.receive({
          '*': (e: CeleryEvent) => {
            state.event(e);
            if (o.dump) process.stdout.write(`${dumpLine(e)}\n`);
          },
        });
        process.stderr.write(`listening for events on ${app.connection.info().url ?? 'the broker'}\n`);
        const timer = o.dump ? undefined : setInterval(() => process.stdout.write(`\x1b[2J\x1b[H${view(state, o.tasks)}\n`), 1000);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        clearInterval(timer);
        await receiver.stop();
      });
    });
}
