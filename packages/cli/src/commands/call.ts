/** `nori call` sends a task by name; `nori result` reads (or waits for) a task's result. */
import type { Command } from 'commander';
import type { ApplyOptions } from '@nori/tasks';
import type { AppSource } from '../load-app.js';
import { date, duration, durationOrDate, int, isArray, isObject, jsonOf } from '../parse.js';
import { withApp } from '../with-app.js';
import { EXIT } from '../exit-codes.js';

interface CallOptions extends AppSource {
  args: unknown[];
  kwargs: Record<string, unknown>;
  countdown?: number;
  eta?: Date;
  expires?: number | Date;
  queue?: string;
  priority?: number;
  wait?: boolean;
  timeout: number;
}

interface ResultOptions extends AppSource {
  timeout: number;
  wait?: boolean;
}

export function registerCall(program: Command): void {
  program
    .command('call <task>')
    .description('send a task by name and print its id (with --wait: its result)')
    .option('-a, --args <json>', 'positional arguments, a JSON array', jsonOf('--args', isArray, 'a JSON array'), [])
    .option('-k, --kwargs <json>', 'keyword arguments, a JSON object', jsonOf('--kwargs', isObject, 'a JSON object'), {})
    .option('--countdown <seconds>', "run no earlier than this many seconds from now (Celery's unit; or 500ms)", duration('--countdown', 's'))
    .option('--eta <iso-date>', 'run no earlier than this time', date('--eta'))
    .option(
      '--expires <seconds|iso-date>',
      "discard unless started within this many seconds (Celery's unit; or 500ms), or by this time",
      durationOrDate('--expires'),
    )
    .option('-Q, --queue <name>', "queue to send to (default: the app's routing)")
    .option('--priority <n>', 'message priority', int('--priority'))
    .option('-w, --wait', 'wait for the result and print it (exit 1 if the task failed)')
    .option('-t, --timeout <ms>', 'with --wait: give up after this many ms (or 30s)', duration('--timeout', 'ms'), 30_000)
    .action(async (task: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<CallOptions>();
      const options: ApplyOptions = {
        ...(o.countdown !== undefined && { countdown: o.countdown }),
        ...(o.eta !== undefined && { eta: o.eta }),
        ...(o.expires !== undefined && { expires: o.expires }),
        ...(o.queue !== undefined && { queue: o.queue }),
        ...(o.priority !== undefined && { priority: o.priority }),
      };
      await withApp(o, async (app) => {
        const result = await app.sendTask(task, o.args, o.kwargs, options);
        process.stdout.write(`${result.taskId}\n`);
        if (o.wait) await printResult(result.taskId, app.result(result.taskId), o.timeout);
      });
    });

  program
    .command('result <id>')
    .description("print a task's state and result as JSON (exit 1 if it failed)")
    .option('-w, --wait', 'wait until the task is ready')
    .option('-t, --timeout <ms>', 'with --wait: give up after this many ms (or 30s)', duration('--timeout', 'ms'), 30_000)
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<ResultOptions>();
      await withApp(o, async (app) => {
        const r = app.result(id);
        if (o.wait) return printResult(id, r, o.timeout);
        await r.refresh();
        report(id, r.state, r.result, r.traceback);
      });
    });
}

interface Readable {
  get(options: { timeout: number; propagate: false }): Promise<unknown>;
  readonly state: string;
  readonly traceback: string | null;
}

async function printResult(id: string, r: Readable, timeout: number): Promise<void> {
  const value = await r.get({ timeout, propagate: false });
  report(id, r.state, value, r.traceback);
}

function report(id: string, state: string, result: unknown, traceback: string | null): void {
  const shown = result instanceof Error ? result.message : result;
  process.stdout.write(`${JSON.stringify({ 'task-id': id, state, result: shown ?? null })}\n`);
  if (state === 'FAILURE' || state === 'REVOKED') {
    if (traceback) process.stderr.write(`${traceback}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}
