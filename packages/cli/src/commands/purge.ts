/** `nori purge`: delete the waiting messages of the app's queues (asks first unless -f). */
import type { Command } from 'commander';
import type { AppSource } from '../load-app.js';
import { confirm } from '../confirm.js';
import { EXIT } from '../exit-codes.js';
import { list } from '../parse.js';
import { withApp } from '../with-app.js';

interface PurgeOptions extends AppSource {
  queues?: string[];
  force?: boolean;
}

export function registerPurge(program: Command): void {
  program
    .command('purge')
    .description('delete all waiting tasks in the queues (asks for confirmation; exit 1 if declined)')
    .option('-Q, --queues <names>', "queues to purge, comma-separated (default: the app's queues)", list)
    .option('-f, --force', 'do not ask')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<PurgeOptions>();
      await withApp(o, async (app) => {
        const queues = o.queues ?? [...new Set([app.conf.defaultQueue, ...app.conf.queues.map((q) => q.name)])];
        if (
          !o.force &&
          !(await confirm(
            `Delete all waiting messages in ${queues.length} queue${queues.length === 1 ? '' : 's'} (${queues.join(', ')})? This cannot be undone. [y/N] `,
          ))
        ) {
          process.stderr.write('Nothing purged.\n');
          process.exitCode = EXIT.FAILURE;
          return;
        }
        let total = 0;
        for (const q of queues) {
          const n = await app.connection.purge(q);
          total += n;
          process.stdout.write(`${q}: ${n} message${n === 1 ? '' : 's'} purged\n`);
        }
        process.stdout.write(`Purged ${total} message${total === 1 ? '' : 's'} from ${queues.length} queue${queues.length === 1 ? '' : 's'}.\n`);
      });
    });
}
