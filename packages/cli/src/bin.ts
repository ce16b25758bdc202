#!/usr/bin/env node
/**
 * The `nori` command. Exit codes: 0 ok, 1 the command failed (see stderr), 2 bad usage,
 * 69 no worker replied.
 */
import { Command, CommanderError } from 'commander';
import { registerBeat } from './commands/beat.js';
import { registerBench } from './commands/bench.js';
import { registerCall } from './commands/call.js';
import { registerEvents } from './commands/events.js';
import { registerFlower } from './commands/flower.js';
import { registerPurge } from './commands/purge.js';
import { registerRemote } from './commands/remote.js';
import { registerWorker } from './commands/worker.js';
import { registerDlq } from './dlq/dlq-command.js';
import { registerTypes } from './typegen/types-command.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './errors.js';
import { Log, parseLevel, parseLogFormat, type LogOptions } from './log.js';
import { VERSION } from './version.js';

const program = new Command('nori')
  .description('Run and watch nori (and Celery) workers, send tasks, benchmark codecs and brokers')
  .option('-A, --app <module[:name]>', 'module exporting the App (default export, or the export named "app", or :name)')
  .option('-b, --broker <url>', 'broker URL when no -A is given (or NORI_BROKER_URL)')
  .option('--result-backend <url>', 'result backend URL when no -A is given (or NORI_RESULT_BACKEND)')
  .option('-l, --loglevel <level>', "debug, info, warning, error, critical (default: the command's; debug also shows errors' stacks)", parseLevel)
  .option('--log-format <format>', "text (Celery's lines) or json (one object a line, for log shippers)", parseLogFormat, 'text')
  .version(VERSION, '-V, --version', 'print the version of nori')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerWorker(program);
registerBeat(program);
registerEvents(program);
registerRemote(program);
registerCall(program);
registerPurge(program);
registerBench(program);
registerFlower(program);
registerTypes(program);
registerDlq(program);
for (const cmd of program.commands) cmd.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; any other commander error is a usage error.
    process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    // Operational errors in one line (their messages say what failed); the stack with -l debug.
    const o = program.opts<LogOptions>();
    const e = error instanceof Error ? error : new Error(String(error));
    const log = Log.of(o, 'warning');
    if (o.logFormat === 'json') log.failure(e);
    else process.stderr.write(`nori: ${log.enabled('debug') ? (e.stack ?? e.message) : e.message}\n`);
    process.exitCode = error instanceof UsageError ? EXIT.USAGE : EXIT.FAILURE;
  }
}
