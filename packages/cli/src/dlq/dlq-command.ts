/** `nori dlq ls|replay|purge <queue>`: see, replay and drop the messages of a dead-letter queue. */
import type { Command } from 'commander';
import { NotFoundError } from '@nori/core';
import type { App } from '@nori/tasks';
import { confirm } from '../confirm.js';
import { EXIT } from '../exit-codes.js';
import type { AppSource } from '../load-app.js';
import { int, list } from '../parse.js';
import { table } from '../table.js';
import { withApp } from '../with-app.js';
import type { DeadLetter } from './dead-letter.js';
import { DeadLetterQueue, type Selection } from './dead-letter-queue.js';
import { addStoredErrors } from './stored-errors.js';

interface DlqOptions extends AppSource {
  id?: string[];
  limit?: number;
  json?: boolean;
  to?: string;
  force?: boolean;
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * Run `fn` on the queue with its size before anything was taken (RabbitMQ may count given-back
 * messages a moment late); exit 1 with a one-line message when it does not exist.
 */
async function withQueue(name: string, o: DlqOptions, fn: (dlq: DeadLetterQueue, size: number, app: App) => Promise<void>): Promise<void> {
  await withApp(o, async (app) => {
    const dlq = new DeadLetterQueue(await app.connection.transport(), name);
    let size: number;
    try {
      size = await dlq.size();
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      process.stderr.write(`nori: queue "${name}" does not exist\n`);
      process.exitCode = EXIT.FAILURE;
      return;
    }
    await fn(dlq, size, app);
  });
}

function selection(o: DlqOptions): Selection {
  return { ...(o.id && { ids: new Set(o.id) }), ...(o.limit !== undefined && { limit: o.limit }) };
}

/** Ids asked for that the queue does not hold: said on stderr, exit 1. */
function reportMissing(o: DlqOptions, found: readonly DeadLetter[]): void {
  const missing = (o.id ?? []).filter((id) => !found.some((l) => l.id === id));
  if (missing.length === 0) return;
  process.stderr.write(`nori: not in the queue: ${missing.join(', ')}\n`);
  process.exitCode = EXIT.FAILURE;
}

function printLetters(letters: readonly DeadLetter[], queue: string, size: number): void {
  const rows = letters.map((l) => [
    l.id,
    l.task ?? '',
    l.queue ?? '?',
    l.reason ?? '?',
    l.attempts === null ? '' : String(l.attempts),
    l.deadLetteredAt?.toISOString() ?? '',
    l.error ?? '',
  ]);
  if (rows.length > 0) process.stdout.write(`${table(['id', 'task', 'from', 'reason', 'attempts', 'dead-lettered', 'error'], rows)}\n\n`);
  process.stdout.write(`${letters.length} of ${plural(size, 'message')} in ${queue} shown; none consumed.\n`);
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('see, replay and purge the messages of a dead-letter queue (any broker)');

  dlq
    .command('ls <queue>')
    .description('list dead letters (id, task, the queue they came from, why, when) without consuming them')
    .option('-n, --limit <n>', 'show at most this many', int('--limit', 1), 100)
    .option('--json', 'print a JSON array')
    .action(async (queue: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<DlqOptions>();
      await withQueue(queue, o, async (q, size, app) => {
        const letters = await q.list(o.limit!);
        await addStoredErrors(app, letters);
        if (o.json) process.stdout.write(`${JSON.stringify(letters)}\n`);
        else printLetters(letters, queue, size);
      });
    });

  dlq
    .command('replay <queue>')
    .description('send dead letters back to the queue each came from (attempt count reset); each leaves the dead-letter queue once the broker has it')
    .option('--id <ids>', 'only these messages, comma-separated (ids as `ls` shows them)', list)
    .option('-n, --limit <n>', 'at most this many', int('--limit', 1))
    .option('--to <queue>', 'send them to this queue instead')
    .option('--json', 'print a JSON array of {id, task, to} or {id, task, failure}')
    .action(async (queue: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<DlqOptions>();
      await withQueue(queue, o, async (q) => {
        const outcomes = await q.replay(selection(o), o.to);
        const failed = outcomes.filter((x) => x.failure !== undefined);
        if (o.json) {
          const shown = outcomes.map(({ letter, to, failure }) => ({ id: letter.id, task: letter.task, ...(to !== undefined ? { to } : { failure }) }));
          process.stdout.write(`${JSON.stringify(shown)}\n`);
        } else {
          for (const x of outcomes) if (x.to !== undefined) process.stdout.write(`${x.letter.id} -> ${x.to}\n`);
          process.stdout.write(`Replayed ${outcomes.length - failed.length} of ${plural(outcomes.length, 'message')} from ${queue}.\n`);
        }
        for (const x of failed) process.stderr.write(`nori: ${x.letter.id} stays in ${queue}: ${x.failure}\n`);
        if (failed.length > 0) process.exitCode = EXIT.FAILURE;
        reportMissing(
          o,
          outcomes.map((x) => x.letter),
        );
      });
    });

  dlq
    .command('purge <queue>')
    .description('delete dead letters for good: all of them, or --id (asks first unless -f)')
    .option('--id <ids>', 'only these messages, comma-separated', list)
    .option('-f, --force', 'do not ask')
    .action(async (queue: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<DlqOptions>();
      await withQueue(queue, o, async (q, size) => {
        const what = o.id ? plural(o.id.length, 'message') : `all ${plural(size, 'message')}`;
        if (!o.force && !(await confirm(`Delete ${what} of ${queue} for good? [y/N] `))) {
          process.stderr.write('Nothing purged.\n');
          process.exitCode = EXIT.FAILURE;
          return;
        }
        if (o.id) {
          const purged = await q.purge(selection(o));
          process.stdout.write(`Purged ${plural(purged.length, 'message')} from ${queue}.\n`);
          reportMissing(o, purged);
        } else {
          const n = await q.purgeAll();
          process.stdout.write(`Purged ${plural(n, 'message')} from ${queue}.\n`);
        }
      });
    });
}
