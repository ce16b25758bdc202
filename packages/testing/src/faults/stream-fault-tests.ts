/**
 * The consumer-kill fault tests of the store-backed transports, written once: a stream of `{ id }`
 * messages flows while consumer processes are SIGKILLed (at random points, then every 0.5 s with
 * three consumers); every id must arrive and nothing of the queue may stay in flight.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import { killConsumersEvery } from './chaos.js';
import { killConsumersWhileFlowing } from './kill-consumers.js';

const LEASE_MS = 1000;

export interface StreamFaultOptions {
  /** The transport, in test titles and the chaos line printed. */
  name: string;
  url: string;
  /** Modules the consumer processes import to register the transport. */
  imports: readonly string[];
  /** How many of the queue's messages the broker still holds in flight, in its own layout. */
  inFlight: (queue: string) => Promise<number>;
  /** Random-point kills: at most `maxKills`, each within `killWithinMs` of a consumer starting. */
  kill: { total: number; batch: number; maxKills: number; minKills: number; killWithinMs: number };
  /** `handleMs` per message spreads a fast broker's stream over several kills. */
  chaos: { total: number; batch: number; handleMs?: number };
}

/** A fresh queue holding the bodies `{ id: 0 }` … `{ id: total - 1 }`, published `batch` at a time. */
async function fillQueue(conn: Connection, prefix: string, total: number, batch: number): Promise<Queue> {
  const queue = new Queue(`${prefix}-${randomUUID().slice(0, 8)}`);
  const producer = conn.producer();
  await conn.declare(queue);
  for (let i = 0; i < total; i += batch) {
    const ids = Array.from({ length: Math.min(batch, total - i) }, (_, j) => i + j);
    await Promise.all(ids.map((id) => producer.publish({ id }, { routingKey: queue.name })));
  }
  return queue;
}

/** What both harnesses are given: where the stream is and how it is consumed. */
interface Stream {
  url: string;
  queue: string;
  imports: readonly string[];
  total: number;
  leaseMs: number;
}

/** Fills a queue, runs a harness on it, and checks that every id arrived and nothing is left. */
async function withStream(
  o: StreamFaultOptions,
  prefix: string,
  { total, batch }: { total: number; batch: number },
  harness: (stream: Stream) => Promise<ReadonlySet<number>>,
): Promise<void> {
  const conn = new Connection(o.url, { transportOptions: { leaseMs: LEASE_MS } });
  const queue = await fillQueue(conn, prefix, total, batch);
  try {
    const delivered = await harness({ url: o.url, queue: queue.name, imports: o.imports, total, leaseMs: LEASE_MS });
    expect(delivered.size).toBe(total);
    expect(await conn.queueSize(queue)).toBe(0);
    expect(await o.inFlight(queue.name)).toBe(0);
  } finally {
    await conn.deleteQueue(queue);
    await conn.close();
  }
}

export function streamFaultTests(o: StreamFaultOptions): void {
  const { kill, chaos } = o;

  it(
    `${o.name}: SIGKILLed consumers lose nothing: ${kill.total} ids arrive, nothing left in flight`,
    () =>
      withStream(o, 'fault-kill', kill, async (stream) => {
        const run = await killConsumersWhileFlowing({ ...stream, maxKills: kill.maxKills, killWithinMs: kill.killWithinMs });
        expect(run.kills).toBeGreaterThanOrEqual(kill.minKills);
        // The kills landed mid-stream: messages in flight in a killed process came back.
        expect(run.redelivered.size).toBeGreaterThan(0);
        return run.delivered;
      }),
    120_000,
  );

  it(
    `${o.name}: SIGKILL one of three consumers every 0.5 s: ${chaos.total} messages, none lost, nothing left in flight`,
    () =>
      withStream(o, 'chaos-kill', chaos, async (stream) => {
        const run = await killConsumersEvery({
          ...stream,
          consumers: 3,
          everyMs: 500,
          deadlineMs: 50_000,
          settleMs: 3 * LEASE_MS,
          ...(chaos.handleMs !== undefined && { handleMs: chaos.handleMs }),
        });
        console.log(
          `${o.name} chaos (SIGKILL every 0.5 s): ${run.delivered.size}/${chaos.total} delivered in ${run.elapsedMs} ms, ${run.kills} kills, ${run.deliveries - run.delivered.size} duplicates`,
        );
        expect(run.kills).toBeGreaterThanOrEqual(3);
        return run.delivered;
      }),
    90_000,
  );
}
