/** `nori types --from-python <module>:<app> [--out registry.d.ts]`: type `sendTask` from a Python Celery app. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { readPythonTasks } from './python-tasks.js';
import { registrySource } from './registry-source.js';

interface TypesOptions {
  fromPython: string;
  out?: string;
}

export function registerTypes(program: Command): void {
  program
    .command('types')
    .description("write TypeScript declarations of a Python Celery app's tasks, so app.sendTask is type-checked against them")
    .requiredOption('--from-python <module:app>', 'the Celery app, as for `celery -A` (run by $PYTHON, else python3, in this directory)')
    .option('-o, --out <file>', 'the .d.ts to write (default: stdout)')
    .action(async (o: TypesOptions) => {
      const source = registrySource(await readPythonTasks(o.fromPython), o.fromPython);
      if (o.out === undefined) process.stdout.write(source);
      else await writeFile(o.out, source);
    });
}
