/**
 * A real three-node RabbitMQ cluster on this machine (private nodes: own node names, ports and data
 * folders, the Debian install's Erlang cookie; `rabbitmqctl join_cluster`), a quorum queue, and
 * connections with a failover URL list across the three nodes. In the middle of a 10,000-message
 * confirmed stream the node the connections are on is stopped: publishing and consuming continue
 * through another node, no confirmed message is lost, duplicates are counted and printed, with the
 * cluster's start-up time and memory (RSS of the three beam processes).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/amqp';
import { startPrivateRabbit, type PrivateRabbit } from './private-rabbit.js';

const TOTAL = 10_000;
const STOP_AT = 4_000; // a multiple of the batch of 250
let nodes: PrivateRabbit[] = [];
let startupMs = 0;

/** Resident memory of a node's beam process, in MiB. */
async function rssMiB(node: PrivateRabbit): Promise<number> {
  const pid = (await node.ctl('eval', 'os:getpid().')).trim().replace(/"/g, '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
}

beforeAll(async () => {
  const started = Date.now();
  nodes = await Promise.all([0, 1, 2].map(() => startPrivateRabbit('')));
  const [first, ...others] = nodes as [PrivateRabbit, ...PrivateRabbit[]];
  for (const node of others) {
    await node.ctl('stop_app');
    await node.ctl('reset');
    await node.ctl('join_cluster', first.node);
    await node.ctl('start_app');
  }
  await first.ctl('await_online_nodes', '3');
  startupMs = Date.now() - started;
}, 150_000);

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
}, 60_000);

it('a quorum queue keeps every confirmed message when the node the connection is on stops mid-stream', async () => {
  const rss = await Promise.all(nodes.map(rssMiB));
  const urls = nodes.map((n) => n.url);
  const producerConn = new Connection(urls, { transportOptions: { reconnectIntervalStart: 100 } });
  const consumerConn = new Connection(urls, { transportOptions: { reconnectIntervalStart: 100 } });
  const on: string[] = [];
  consumerConn.on('connected', (url) => on.push(url));
  // How far the stream had got when the producer's node went away: proves the stop fell mid-stream.
  let confirmedAtLoss: number | undefined;
  const connectionLost = new Promise<void>((resolve) => producerConn.on('disconnected', () => resolve(void (confirmedAtLoss ??= confirmed.size))));
  const queue = new Queue(`cluster-${randomUUID().slice(0, 8)}`, { durable: true, queueArguments: { 'x-queue-type': 'quorum' } });

  const seen = new Map<number, number>();
  const confirmed = new Set<number>();
  const consumer = consumerConn.consumer([queue], { prefetch: 200, concurrency: 50 }, async (m) => {
    const id = (m.body as { id: number }).id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    await m.ack();
  });
  await consumer.start();
  const producer = producerConn.producer();
  const stoppedPort = Number(/:(\d+)\//.exec(on[0] ?? '')?.[1]);
  const victim = nodes.find((n) => n.port === stoppedPort);
  expect(victim, `connected to ${on[0]}`).toBeDefined();

  let republished = 0;
  let stopping: Promise<string> | undefined;
  const publish = async (id: number): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.publish({ id }, { routingKey: queue.name, declare: [queue], timeout: 30_000 });
        confirmed.add(id);
        return;
      } catch (error) {
        // Not confirmed: the broker may or may not have it. Publish again (a duplicate at worst).
        if (attempt >= 10) throw error;
        republished++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const streamStart = Date.now();
  for (let start = 0; start < TOTAL; start += 250) {
    if (start === STOP_AT) stopping = (victim as PrivateRabbit).ctl('stop');
    // rabbitmqctl stop takes a few seconds: publishing goes on meanwhile, and the rest of the stream
    // waits for the producer's connection to drop, so the loss falls mid-stream on any machine.
    if (start === STOP_AT + 1_000) await connectionLost;
    await Promise.all(Array.from({ length: 250 }, (_, i) => publish(start + i)));
  }
  await stopping;
  const deadline = Date.now() + 60_000;
  while ([...confirmed].some((id) => !seen.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const streamMs = Date.now() - streamStart;
  await consumer.stop();
  await Promise.all([producerConn.close(), consumerConn.close()]);

  const lost = [...confirmed].filter((id) => !seen.has(id));
  const duplicates = [...seen.values()].reduce((n, count) => n + count - 1, 0);
  console.log(
    `cluster: 3 nodes up and joined in ${(startupMs / 1000).toFixed(1)} s; beam RSS ${rss.join(' + ')} = ${rss.reduce((a, b) => a + b, 0)} MiB; ` +
      `${TOTAL} messages in ${(streamMs / 1000).toFixed(1)} s with ${(victim as PrivateRabbit).node} stopped after ${STOP_AT} (its connections lost at ${confirmedAtLoss} confirmed); ` +
      `connections on ${on.join(' → ')}; confirmed ${confirmed.size}, lost ${lost.length}, duplicates ${duplicates}, publishes retried ${republished}`,
  );
  expect(confirmed.size).toBe(TOTAL);
  expect(confirmedAtLoss).toBeGreaterThanOrEqual(STOP_AT);
  expect(confirmedAtLoss).toBeLessThan(TOTAL);
  expect(lost).toEqual([]);
  expect(on.length).toBeGreaterThanOrEqual(2);
  expect(new URL(on.at(-1) as string).port).not.toBe(String(stoppedPort));
}, 150_000);
