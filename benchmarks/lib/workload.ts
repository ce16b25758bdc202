/**
 * What the transport benchmarks share: the command line, package versions, the run's own names,
 * the ~120-byte task message, publishing in windows of concurrent publishes, and nori's consume-with-ack loop, so
 * every transport is measured the same way.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Connection, Queue } from '@nori/core';

/** This run's tag: every queue, key and collection a benchmark makes carries it, so two runs at once never share one. */
export const runTag = randomUUID().slice(0, 8);

/** `bench-<what>-<this run's tag>`. */
export const runName = (what: string): string => `bench-${what}-${runTag}`;

/** `--name value` from the command line, or the fallback. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

export function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** Host, port and database of a redis:// URL, for clients that take options rather than a URL (BullMQ). */
export function redisOptions(url: string): { host: string; port: number; db: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0) };
}

/** The installed version of a package, for the run's header. */
export function packageVersion(pkg: string): string {
  return (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
}

/** The message every transport benchmark sends (119 bytes as JSON), with its id varied. */
export const taskMessage = { id: 0, task: 'proj.tasks.resize', args: ['image-0001.png', 640, 480], note: 'x'.repeat(40) };

/** Runs `send(i)` for i < count, `window` at a time concurrently; returns count. */
export async function inWindows(count: number, window: number, send: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < count; i += window) await Promise.all(Array.from({ length: Math.min(window, count - i) }, (_, j) => send(i + j)));
  return count;
}

/** Consumes and acks `count` messages with a nori consumer; returns count once the last is acked. */
export async function consumeAll(conn: Connection, queue: Queue, count: number, options: { prefetch: number; concurrency: number }): Promise<number> {
  let acked = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const consumer = conn.consumer([queue], options, async (m) => {
    await m.ack();
    if (++acked === count) done();
  });
  await consumer.start();
  await finished;
  await consumer.stop();
  return acked;
}

/**
 * Milliseconds on CLOCK_MONOTONIC, the clock every process on the machine shares (Python's
 * time.monotonic() reads it too): a time taken in a worker and one taken in the sender subtract.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
