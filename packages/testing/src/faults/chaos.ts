/**
 * The chaos runs of the store-backed transports' fault suite: `total` messages flow through a few
 * consumer processes (fault-consumer.ts) while one of them that is consuming is SIGKILLed
 * every `everyMs` and replaced; then the survivors finish, and keep consuming for `settleMs` (so what the last
 * killed process held comes back after its lease and is taken) before they are stopped. Returns every delivery reported (ids, redelivered flags,
 * duplicates), so the caller asserts nothing was lost and prints the duplicates.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// The TypeScript source, run with tsx, from src/ and from dist/ alike.
const child = fileURLToPath(new URL('../../src/faults/fault-consumer.ts', import.meta.url));

export interface ChaosRun {
  /** Distinct ids delivered. */
  readonly delivered: Set<number>;
  /** Deliveries reported, duplicates included. */
  deliveries: number;
  kills: number;
  readonly elapsedMs: number;
}

export async function killConsumersEvery(options: {
  url: string;
  queue: string;
  imports: readonly string[];
  total: number;
  leaseMs: number;
  /** Consumer processes alive at once. */
  consumers: number;
  everyMs: number;
  /** The whole run, kills and finish, ends by then. */
  deadlineMs: number;
  /** How long the survivors keep consuming once every id arrived: more than a lease. */
  settleMs: number;
  /** ms each delivery's handler takes (default 0): spreads a fast broker's stream over several kills. */
  handleMs?: number;
}): Promise<ChaosRun> {
  const started = Date.now();
  const run = { delivered: new Set<number>(), deliveries: 0, kills: 0 };
  const alive = new Set<ChildProcess>();
  /** Consumers that are taking messages: the ones a kill hits. */
  const ready = new Set<ChildProcess>();
  const start = (): void => {
    const proc = spawn(
      process.execPath,
      [
        '--conditions=nori-src',
        '--import',
        'tsx',
        child,
        options.url,
        options.queue,
        String(options.leaseMs),
        JSON.stringify(options.imports),
        String(options.handleMs ?? 0),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line === 'ready') ready.add(proc);
      if (line === '' || line === 'ready') return;
      run.deliveries++;
      run.delivered.add(Number(line.split(' ')[0]));
    });
    alive.add(proc);
    proc.once('exit', () => {
      alive.delete(proc);
      ready.delete(proc);
    });
  };
  for (let i = 0; i < options.consumers; i++) start();
  const killUntil = started + options.deadlineMs / 2;
  const killer = setInterval(() => {
    if (Date.now() > killUntil || run.delivered.size >= options.total) return;
    const victim = [...ready][Math.floor(Math.random() * ready.size)];
    if (!victim) return;
    victim.kill('SIGKILL');
    ready.delete(victim);
    run.kills++;
    start();
  }, options.everyMs);
  try {
    while (run.delivered.size < options.total && Date.now() - started < options.deadlineMs) await new Promise((r) => setTimeout(r, 100));
    clearInterval(killer);
    await new Promise((r) => setTimeout(r, options.settleMs));
  } finally {
    clearInterval(killer);
    await Promise.all(
      [...alive].map(async (proc) => {
        proc.kill('SIGKILL');
        if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
      }),
    );
  }
  return { ...run, elapsedMs: Date.now() - started - options.settleMs };
}
