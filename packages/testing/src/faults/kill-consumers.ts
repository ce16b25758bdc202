/**
 * The kill fault test shared by the store-backed transports: `total` messages flow while consumer
 * processes (fault-consumer.ts) are SIGKILLed at random points; then one consumer finishes.
 * Returns what the consumers reported, so the caller asserts nothing was lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The TypeScript source, run with tsx, from src/ and from dist/ alike.
const child = fileURLToPath(new URL('../../src/faults/fault-consumer.ts', import.meta.url));

export interface KillRun {
  delivered: Set<number>;
  redelivered: Set<number>;
  kills: number;
}

function startConsumer(url: string, queue: string, leaseMs: number, imports: readonly string[], run: KillRun): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', child, url, queue, String(leaseMs), JSON.stringify(imports)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  proc.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') markReady();
      else if (line) {
        const [id, flag] = line.split(' ');
        run.delivered.add(Number(id));
        if (flag === 'redelivered') run.redelivered.add(Number(id));
      }
    }
  });
  return { proc, ready };
}

export async function killConsumersWhileFlowing(options: {
  url: string;
  queue: string;
  imports: readonly string[];
  total: number;
  leaseMs: number;
  maxKills: number;
  /** Longest a consumer lives before it is killed, ms. */
  killWithinMs: number;
}): Promise<KillRun> {
  const run: KillRun = { delivered: new Set(), redelivered: new Set(), kills: 0 };
  while (run.delivered.size < options.total && run.kills < options.maxKills) {
    const { proc, ready } = startConsumer(options.url, options.queue, options.leaseMs, options.imports, run);
    await ready;
    await new Promise((r) => setTimeout(r, 10 + Math.random() * options.killWithinMs));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    run.kills++;
  }
  const { proc, ready } = startConsumer(options.url, options.queue, options.leaseMs, options.imports, run);
  await ready;
  const deadline = Date.now() + 60_000;
  while (run.delivered.size < options.total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  return run;
}
