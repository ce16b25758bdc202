/**
 * A beat process for the fail-over test: `node --import tsx beat-process.ts <broker> <beat name> <queue> <lockTtl> [state file]`
 * (Redis state without a file).
 * Prints `leader true|false` and `tick <task id> <due ms>` per tick it sends, so the parent sees
 * what a process it SIGKILLs sent. SIGTERM stops it cleanly.
 */
import '@nori/redis';
import { App, every } from '@nori/tasks';

const [broker, name, queue, lockTtl, file] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const app = new App({ broker, defaultQueue: queue });
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const beat = app.beat({
  name,
  lockTtl: Number(lockTtl),
  interval: 100,
  ...(file && { store: { file } }),
  schedule: { tick: { task: 'beat.tick', schedule: every(1000), missed: 'all' } },
});
beat.on('leader', (leading) => say(`leader ${leading}`));
beat.on('tick-sent', (t) => say(`tick ${t.taskId} ${t.due.getTime()}`));
beat.on('error', (e) => say(`error ${e.message}`));
beat.start();
say('ready');
process.on('SIGTERM', () => {
  void beat
    .stop()
    .then(() => app.close())
    .then(() => process.exit(0));
});
