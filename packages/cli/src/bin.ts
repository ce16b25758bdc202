#!/usr/bin/env node
/**
 * The `nori` command. Exit codes: 0 ok, 1 the command failed (see stderr), 2 bad usage,
 * 69 no worker replied.
 */
import { Command, CommanderError } from 'commander';
import { NoriError } from '@nori/core';
import { registerBeat } from './commands/beat.js';
import { registerBench } from './commands/bench.js';
import { registerCall } from './commands/call.js';
import { registerEvents } from './commands/events.js';
import { registerFlower } from './commands/flower.js';
import { registerPurge } from './commands/purge.js';
import { registerRemote } from './commands/remote.js';
import { registerWorker } from './commands/worker.js';
import { registerTypes } from './typegen/types-command.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './errors.js';

const program = new Command('nori')
  .description('Run and watch nori (and Celery) workers, send tasks, benchmark codecs and brokers')
  .option('-A, --app <module[:name]>', 'module exporting the App (default export, or the export named "app", or :name)')
  .option('-b, --broker <url>', 'broker URL when no -A is given (or NORI_BROKER_URL)')
  .option('--result-backend <url>', 'result backend URL when no -A is given (or NORI_RESULT_BACKEND)')
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
for (const cmd of program.commands) cmd.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; any other commander error is a usage error.
    process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else if (error instanceof UsageError) {
    process.stderr.write(`nori: ${error.message}\n`);
    process.exitCode = EXIT.USAGE;
  } else if (error instanceof NoriError) {
    // Its message says what failed and what to do; a stack would bury it.
    process.stderr.write(`nori: ${error.message}\n`);
    process.exitCode = EXIT.FAILURE;
  } else {
    const e = error as Error;
    process.stderr.write(`nori: ${e.stack ?? String(e)}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}
