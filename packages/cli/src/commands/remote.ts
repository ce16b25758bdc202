/**
 * `nori inspect <method>`, `nori control <method>` and `nori status`: Celery's remote control over
 * the pidbox (app.control), so they reach Python workers as well as nori ones. No reply within
 * the timeout exits 69, as Celery's command does.
 */
import type { Command } from 'commander';
import type { App } from '@nori/tasks';
import type { Inspect, InspectOptions, Replies } from '@nori/tasks/control';
import type { AppSource } from '../load-app.js';
import { EXIT } from '../exit-codes.js';
import { duration, list } from '../parse.js';
import { UsageError } from '../errors.js';
import { withApp } from '../with-app.js';

interface RemoteOptions extends AppSource {
  destination?: string[];
  timeout?: number;
  json?: boolean;
  terminate?: boolean;
}

const INSPECT: Record<string, (i: Inspect, args: string[]) => Promise<Replies>> = {
  ping: (i) => i.ping(),
  active: (i) => i.active(),
  reserved: (i) => i.reserved(),
  scheduled: (i) => i.scheduled(),
  revoked: (i) => i.revoked(),
  registered: (i, a) => i.registered(...a),
  stats: (i) => i.stats(),
  active_queues: (i) => i.activeQueues(),
  conf: (i, a) => i.conf(a[0] === 'true'),
  query_task: (i, a) => i.queryTask(...a),
  clock: (i) => i.clock(),
  report: (i) => i.report(),
};

function need(args: string[], count: number, usage: string): void {
  if (args.length < count) throw new UsageError(`usage: nori control ${usage}`);
}

const seconds = (value: string | undefined, name: string): number | undefined => (value === undefined ? undefined : duration(name, 's')(value));

const CONTROL: Record<string, (app: App, args: string[], o: InspectOptions & { terminate?: boolean }) => Promise<Replies>> = {
  revoke: (app, a, o) => (need(a, 1, 'revoke <id>... [--terminate]'), app.control.revoke(a, { ...o, terminate: o.terminate ?? false, reply: true })),
  rate_limit: (app, a, o) => (need(a, 2, 'rate_limit <task> <rate, e.g. 10/m>'), app.control.rateLimit(a[0]!, a[1]!, { ...o, reply: true })),
  time_limit: (app, a, o) => {
    need(a, 2, 'time_limit <task> <soft seconds> [hard seconds]');
    return app.control.timeLimit(a[0]!, { soft: seconds(a[1], 'soft'), hard: seconds(a[2], 'hard') }, { ...o, reply: true });
  },
  add_consumer: (app, a, o) => (need(a, 1, 'add_consumer <queue>'), app.control.addConsumer(a[0]!, { ...o, reply: true })),
  cancel_consumer: (app, a, o) => (need(a, 1, 'cancel_consumer <queue>'), app.control.cancelConsumer(a[0]!, { ...o, reply: true })),
  pool_grow: (app, a, o) => app.control.poolGrow(Number(a[0] ?? 1), { ...o, reply: true }),
  pool_shrink: (app, a, o) => app.control.poolShrink(Number(a[0] ?? 1), { ...o, reply: true }),
  autoscale: (app, a, o) => (need(a, 1, 'autoscale <max> [min]'), app.control.autoscale(Number(a[0]), Number(a[1] ?? 0), { ...o, reply: true })),
  enable_events: (app, _a, o) => app.control.enableEvents({ ...o, reply: true }),
  disable_events: (app, _a, o) => app.control.disableEvents({ ...o, reply: true }),
};

function print(replies: Replies, json: boolean | undefined): void {
  if (!replies || Object.keys(replies).length === 0) {
    process.stderr.write('Error: No nodes replied within time constraint\n');
    process.exitCode = EXIT.UNAVAILABLE;
    return;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(replies)}\n`);
    return;
  }
  for (const [node, reply] of Object.entries(replies)) {
    const failed = typeof reply === 'object' && reply !== null && 'error' in reply;
    process.stdout.write(`-> ${node}: ${failed ? 'ERROR' : 'OK'}\n${JSON.stringify(reply, null, 2).replace(/^/gm, '    ')}\n`);
    if (failed) process.exitCode = EXIT.FAILURE;
  }
  const n = Object.keys(replies).length;
  process.stdout.write(`\n${n} node${n === 1 ? '' : 's'} online.\n`);
}

function remoteOptions(cmd: Command): Command {
  return cmd
    .option('-d, --destination <nodes>', 'node names, comma-separated (default: every worker)', list)
    .option('-t, --timeout <seconds>', "how long to wait for replies, default 1 (Celery's unit; or 500ms)", duration('--timeout', 's'))
    .option('-j, --json', 'print the replies as one JSON object');
}

function inspectOptions(o: RemoteOptions): InspectOptions {
  return { timeout: o.timeout ?? 1000, ...(o.destination && { destination: o.destination }) };
}

export function registerRemote(program: Command): void {
  remoteOptions(program.command('inspect <method> [args...]').description(`ask workers: ${Object.keys(INSPECT).join(', ')}`)).action(
    async (method: string, args: string[], _o: unknown, cmd: Command) => {
      const run = INSPECT[method];
      if (!run) throw new UsageError(`unknown inspect method "${method}"; one of ${Object.keys(INSPECT).join(', ')}`);
      const o = cmd.optsWithGlobals<RemoteOptions>();
      await withApp(o, async (app) => print(await run(app.control.inspect(inspectOptions(o)), args), o.json));
    },
  );

  remoteOptions(
    program
      .command('control <method> [args...]')
      .description(`tell workers: ${[...Object.keys(CONTROL), 'heartbeat', 'shutdown'].join(', ')}`)
      .option('--terminate', 'revoke: also end the task where it runs'),
  ).action(async (method: string, args: string[], _o: unknown, cmd: Command) => {
    const o = cmd.optsWithGlobals<RemoteOptions>();
    await withApp(o, async (app) => {
      // These two send no reply (as in Celery): nothing to wait for.
      if (method === 'shutdown') return app.control.shutdown(inspectOptions(o));
      if (method === 'heartbeat') return void (await app.control.heartbeat(inspectOptions(o)));
      const run = CONTROL[method];
      if (!run) throw new UsageError(`unknown control method "${method}"; one of ${[...Object.keys(CONTROL), 'heartbeat', 'shutdown'].join(', ')}`);
      print(await run(app, args, { ...inspectOptions(o), ...(o.terminate && { terminate: true }) }), o.json);
    });
  });

  remoteOptions(program.command('status').description('list the workers that answer a ping (exit 69 if none)')).action(async (_o: unknown, cmd: Command) => {
    const o = cmd.optsWithGlobals<RemoteOptions>();
    await withApp(o, async (app) => {
      const replies = await app.control.ping(inspectOptions(o));
      if (!replies || Object.keys(replies).length === 0) return print(replies, o.json);
      if (o.json) return print(replies, true);
      for (const node of Object.keys(replies)) process.stdout.write(`${node}: OK\n`);
      const n = Object.keys(replies).length;
      process.stdout.write(`\n${n} node${n === 1 ? '' : 's'} online.\n`);
    });
  });
}
