/** `nori bench codecs` and `nori bench transport <url>`: a table on stdout (or JSON with --json). */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { builtInPayloads, codecCases, loadCodecPackages, measureCodecs } from '../bench/codecs.js';
import { benchTransport } from '../bench/transport.js';
import { duration, int } from '../parse.js';
import { Progress } from '../progress.js';
import { table } from '../table.js';
import { UsageError } from '../errors.js';

function readPayload(file: string): [string, unknown] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--file: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return [basename(file), JSON.parse(text) as unknown];
  } catch (e) {
    throw new UsageError(`--file: ${file} is not JSON: ${(e as Error).message}`);
  }
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmark codecs on your data, or a broker');

  bench
    .command('codecs')
    .description('serializer and compression throughput (MB/s) on built-in payloads or your JSON file')
    .option('-f, --file <payload.json>', 'benchmark this JSON document instead of the built-in payloads')
    .option('--time <ms>', 'time spent on each measurement (or 1s)', duration('--time', 'ms'), 300)
    .option('--json', 'print the results as JSON')
    .action(async (o: { file?: string; time: number; json?: boolean }) => {
      const payloads = o.file ? [readPayload(o.file)] : builtInPayloads();
      const missing = await loadCodecPackages();
      if (missing.length > 0 && !o.json) process.stderr.write(`not installed, so not measured: ${missing.join(', ')}\n`);
      const { cases, skipped } = codecCases(payloads);
      if (!o.json) for (const [name, reason] of skipped) process.stderr.write(`skipped ${name}: ${reason}\n`);
      const progress = new Progress(cases.length * 2);
      const rows = measureCodecs(cases, o.time, (c, warmUp) => progress.tick(`${warmUp ? 'warm-up ' : ''}${c.payload} ${c.codec}`));
      progress.end();
      if (o.json)
        return void process.stdout.write(`${JSON.stringify({ node: process.version, results: rows, skipped: Object.fromEntries(skipped) }, null, 2)}\n`);
      process.stdout.write(
        `${table(
          ['payload', 'codec', 'bytes', 'encode MB/s', 'decode MB/s', 'encodes/s'],
          rows.map((r) => [r.payload, r.codec, r.bytes, r.encodeMBps, r.decodeMBps, r.encodeOpsPerSec]),
        )}\n`,
      );
    });

  bench
    .command('transport <url>')
    .description('publish and consume rates of a broker (redis://, amqp://, mongodb://, memory://) on a fresh queue')
    .option('-n, --count <n>', 'messages', int('--count', 1), 10_000)
    .option('--size <bytes>', 'approximate message body size', int('--size', 1), 256)
    .option('--window <n>', 'publishes in flight at once', int('--window', 1), 100)
    .option('--prefetch <n>', 'consumer prefetch', int('--prefetch', 1), 1000)
    .option('--concurrency <n>', 'consumer handlers running at once', int('--concurrency', 1), 100)
    .option('--serializer <name>', 'json, msgpack, yaml', 'json')
    .option('--json', 'print the result as JSON')
    .action(
      async (url: string, o: { count: number; size: number; window: number; prefetch: number; concurrency: number; serializer: string; json?: boolean }) => {
        await loadCodecPackages();
        // A bar per phase, each counting its messages.
        let phase: { name: string; bar: Progress } | undefined;
        const r = await benchTransport(url, {
          ...o,
          onProgress: (name, done) => {
            if (phase?.name !== name) {
              phase?.bar.end();
              phase = { name, bar: new Progress(o.count) };
            }
            phase.bar.update(done, name);
          },
        });
        phase?.bar.end();
        if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
        process.stdout.write(
          `${table(['broker', 'messages', 'bytes', 'publish msg/s', 'consume msg/s'], [[r.url, r.count, r.size, r.publishPerSec, r.consumePerSec]])}\n`,
        );
      },
    );
}
