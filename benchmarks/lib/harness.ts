/**
 * The benchmark harness: every nori figure is measured beside its baseline in the same run, on the
 * same machine, and reported as a ratio.
 *
 *   const bench = new Bench('redis transport', { messageBytes: 120, count: 100_000 });
 *   bench.add({ group: 'publish', name: 'ioredis LPUSH (pipelined)', baseline: true, unit: 'msg/s', run: async () => 100_000 });
 *   bench.add({ group: 'publish', name: 'nori publish', unit: 'msg/s', run: async () => 100_000 });
 *   await bench.run();   // --runs N (default 5), --json <file>
 *
 * `run()` of a case does the work once and returns how many units it processed (messages, bytes);
 * the harness times it. Cases run interleaved, `runs` times each; medians are reported. Progress
 * goes to stderr (a bar on a TTY, plain lines otherwise); the table to stdout.
 */
import { writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';

export interface BenchCase {
  group: string;
  name: string;
  /** The reference every other case of the group is divided by. One per group. */
  baseline?: boolean;
  unit: string;
  /** Untimed preparation before each run (loading a queue to consume from, ...). */
  setup?: () => Promise<void>;
  /** Does the work once; returns the number of units processed. */
  run: () => Promise<number>;
  /** Scale for display, e.g. 1e-6 with unit 'MB/s' when run() returns bytes. */
  scale?: number;
  /** Resident memory, bytes, of what the case ran on (its worker), read once after every run: the table's RSS column. */
  memory?: () => number;
}

export interface BenchResult {
  group: string;
  name: string;
  unit: string;
  baseline: boolean;
  median: number;
  runs: number[];
  /** median / baseline median of the group. */
  ratio: number | undefined;
  /** `memory()` after the last run, bytes. */
  rss: number | undefined;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Prints the run's header (machine, Node, date, then `meta`) and returns it, for the JSON file. */
export function runHeader(title: string, meta: Record<string, unknown>): Record<string, unknown> {
  const header = {
    title,
    host: hostname(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    ...meta,
  };
  console.log(`# ${title}`);
  for (const [k, v] of Object.entries(header)) if (k !== 'title') console.log(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return header;
}

/** Progress on stderr: a bar on a terminal, plain lines otherwise. */
export function progress(done: number, total: number, label: string): void {
  if (process.stderr.isTTY) {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`.padEnd(100).slice(0, 100));
    if (done === total) process.stderr.write('\n');
  } else {
    process.stderr.write(`${done}/${total} ${label}\n`);
  }
}

/** A Markdown table on stdout, columns padded. */
export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log('');
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

export function format(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

export class Bench {
  readonly #cases: BenchCase[] = [];
  readonly runs = Number(arg('runs') ?? 5);

  constructor(
    readonly title: string,
    readonly meta: Record<string, unknown>,
  ) {}

  add(c: BenchCase): void {
    this.#cases.push(c);
  }

  async run(): Promise<BenchResult[]> {
    const header = runHeader(this.title, { runs: this.runs, ...this.meta });
    const samples = new Map<BenchCase, number[]>(this.#cases.map((c) => [c, []]));
    const total = this.runs * this.#cases.length;
    let done = 0;
    for (let r = 0; r < this.runs; r++) {
      for (const c of this.#cases) {
        progress(done, total, `${c.group}: ${c.name}`);
        await c.setup?.();
        const start = process.hrtime.bigint();
        const units = await c.run();
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        samples.get(c)?.push((units / seconds) * (c.scale ?? 1));
        done++;
      }
    }
    progress(done, total, 'done');
    const results: BenchResult[] = this.#cases.map((c) => ({
      group: c.group,
      name: c.name,
      unit: c.unit,
      baseline: c.baseline ?? false,
      median: median(samples.get(c) ?? []),
      runs: samples.get(c) ?? [],
      ratio: undefined,
      rss: c.memory?.(),
    }));
    for (const r of results) {
      const base = results.find((b) => b.group === r.group && b.baseline);
      r.ratio = base && !r.baseline ? r.median / base.median : undefined;
    }
    this.#print(results);
    const json = arg('json');
    if (json) writeFileSync(json, `${JSON.stringify({ ...header, results }, null, 2)}\n`);
    return results;
  }

  #print(results: BenchResult[]): void {
    const memory = results.some((r) => r.rss !== undefined);
    const rows = results.map((r) => [
      r.group,
      r.name + (r.baseline ? ' (baseline)' : ''),
      `${format(r.median)} ${r.unit}`,
      r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(1)}%`,
      ...(memory ? [r.rss === undefined ? '' : `${format(r.rss / 2 ** 20)} MiB`] : []),
    ]);
    const head = ['group', 'case', `median of ${this.runs}`, 'vs baseline', ...(memory ? ['worker RSS after'] : [])];
    printTable(head, rows);
  }
}
