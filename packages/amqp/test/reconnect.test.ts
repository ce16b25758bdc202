/**
 * Reconnect on the shared RabbitMQ without disturbing anyone: each test closes only its own
 * connection (found by its connection name), with non-durable, auto-delete queues that the broker
 * deletes with the connection, so nothing survives the cut unless nori replays it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, Exchange, NoriError, Queue, type Message } from '@nori/core';
import '@nori/amqp';
import { closeOwnConnections, ownConnectionName } from './own-connections.js';
import { waitFor } from './wait-for.js';
import { AMQP_URL } from '@nori/testing/brokers';

const URL_ = AMQP_URL;
const id = (): string => randomUUID().slice(0, 8);
const transient = { durable: false, autoDelete: true } as const;

/** A Connection with its own name, counting its (re)connections. */
function ownConnection(label: string): { conn: Connection; name: string; connects: () => number; errors: Error[] } {
  const name = ownConnectionName(label);
  const conn = new Connection(URL_, { connectionName: name, transportOptions: { reconnectIntervalStart: 50 } });
  let connects = 0;
  const errors: Error[] = [];
  conn.on('connected', () => connects++);
  conn.on('error', (e) => errors.push(e));
  return { conn, name, connects: () => connects, errors };
}

/** Close the connection by name and wait until it is back. */
async function cut(own: { name: string; connects: () => number }): Promise<void> {
  const before = own.connects();
  expect(await closeOwnConnections(own.name)).toBe(1);
  await waitFor(() => own.connects() > before, 'the reconnect');
}

describe("AMQP reconnect (only this test's own connection is closed)", () => {
  const other = new Connection(URL_);
  afterAll(() => other.close());

  it('replays the topology and re-registers the consumer of an auto-delete queue', async () => {
    const own = ownConnection('replay');
    const exchange = new Exchange(`replay-x-${id()}`, { type: 'direct', ...transient });
    const queue = new Queue(`replay-q-${id()}`, { exchange, routingKey: 'k', ...transient });
    const got: string[] = [];
    const consumer = own.conn.consumer([queue], { prefetch: 10 }, async (m: Message) => {
      got.push(m.body as string);
      await m.ack();
    });
    try {
      await consumer.start();
      await own.conn.producer().publish('before', { exchange, routingKey: 'k' });
      await waitFor(() => got.length === 1, 'the first message');
      await cut(own);
      // The broker deleted the queue and the exchange with the connection: both are back, bound,
      // and consumed from by the same consumer.
      expect((await other.queueStatus(queue)).consumerCount).toBe(1);
      await own.conn.producer().publish('after', { exchange, routingKey: 'k' });
      await waitFor(() => got.length === 2, 'the message published after the reconnect');
      expect(got).toEqual(['before', 'after']);
      expect(consumer.running).toBe(true);
    } finally {
      await consumer.stop();
      await own.conn.close();
    }
  });

  it('a burst cut mid-flight: every publish resolves, none is dropped, each message arrives', async () => {
    const own = ownConnection('burst');
    const queue = new Queue(`burst-q-${id()}`, transient);
    // The consumer lives on another connection, so the auto-delete queue outlives the cut.
    const received = new Set<number>();
    const consumer = other.consumer([queue], { prefetch: 500 }, async (m: Message) => {
      received.add((m.body as { i: number }).i);
      await m.ack();
    });
    await consumer.start();
    const producer = own.conn.producer();
    let issued = 0;
    let settled = 0;
    let inFlightAtCut = -1;
    let stopAt = Number.POSITIVE_INFINITY;
    const failed: unknown[] = [];
    own.conn.on('disconnected', () => {
      if (inFlightAtCut < 0) inFlightAtCut = issued - settled;
      stopAt = issued + 1000;
    });
    try {
      await own.conn.connect();
      const closing = closeOwnConnections(own.name);
      // 300 publishes in flight at all times until 1,000 more were issued after the cut.
      await new Promise<void>((resolve) => {
        const next = (): void => {
          if (issued >= stopAt) {
            if (settled === issued) resolve();
            return;
          }
          const i = issued++;
          void producer
            .publish({ i }, { routingKey: queue.name, timeout: 20_000 })
            .then(
              () => settled++,
              (e: unknown) => (settled++, failed.push(e)),
            )
            .then(next);
        };
        for (let k = 0; k < 300; k++) next();
      });
      expect(await closing).toBe(1);
      expect(inFlightAtCut).toBeGreaterThan(0);
      expect(failed).toEqual([]);
      await waitFor(() => received.size === issued, `${issued} messages (have ${received.size})`);
      expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: issued }, (_, i) => i));
    } finally {
      await consumer.stop();
      await own.conn.close();
    }
  });

  it('publishes made while disconnected wait in the buffer and go out after the reconnect', async () => {
    const own = ownConnection('buffer');
    const queue = new Queue(`buffer-q-${id()}`, transient);
    const received: number[] = [];
    const consumer = other.consumer([queue], { prefetch: 100 }, async (m: Message) => {
      received.push((m.body as { i: number }).i);
      await m.ack();
    });
    await consumer.start();
    const producer = own.conn.producer();
    let offline: Promise<void>[] = [];
    own.conn.on('disconnected', () => {
      if (offline.length > 0) return;
      offline = Array.from({ length: 50 }, (_, i) => producer.publish({ i }, { routingKey: queue.name, timeout: 10_000 }));
    });
    try {
      await own.conn.connect();
      await cut(own);
      expect(offline).toHaveLength(50);
      await Promise.all(offline);
      await waitFor(() => received.length === 50, 'the 50 buffered messages');
      expect(received).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await consumer.stop();
      await own.conn.close();
    }
  });

  it("deleting queue 'a' keeps the replayed bindings of queue 'a:b'", async () => {
    const own = ownConnection('prefix');
    const exchange = new Exchange(`prefix-x-${id()}`, { type: 'direct' });
    const a = new Queue(`prefix-${id()}`, { exchange, routingKey: 'a', ...transient });
    const ab = new Queue(`${a.name}:b`, { exchange, routingKey: 'b', ...transient });
    const got: string[] = [];
    const consumer = own.conn.consumer([ab], { prefetch: 10 }, async (m: Message) => {
      got.push(m.body as string);
      await m.ack();
    });
    try {
      await own.conn.declare(a);
      await consumer.start();
      await own.conn.deleteQueue(a);
      await cut(own);
      await own.conn.producer().publish('to a:b', { exchange, routingKey: 'b' });
      await waitFor(() => got.length === 1, 'the message routed to a:b');
      expect(got).toEqual(['to a:b']);
    } finally {
      await consumer.stop();
      await own.conn.close();
      await other.deleteExchange(exchange).catch(() => undefined);
    }
  });

  it('a declaration that cannot be replayed is reported by name; the rest is replayed and the connection kept', async () => {
    const own = ownConnection('replay-fails');
    const clash = new Queue(`clash-${id()}`, { durable: false, maxPriority: 5 });
    const fine = new Queue(`fine-${id()}`, transient);
    const got: string[] = [];
    const consumer = own.conn.consumer([fine], { prefetch: 10 }, async (m: Message) => {
      got.push(m.body as string);
      await m.ack();
    });
    try {
      await own.conn.declare(clash);
      await consumer.start();
      // Someone else re-declares the queue with other arguments: replaying ours is refused (406).
      await other.deleteQueue(clash);
      await other.declare(new Queue(clash.name, { durable: false, maxPriority: 9 }));
      await cut(own);
      await own.conn.producer().publish('still works', { routingKey: fine.name, timeout: 5000 });
      await waitFor(() => got.length === 1, 'the message on the replayed queue');
      expect(own.errors.map((e) => e.message).join('\n')).toContain(`queue "${clash.name}"`);
      expect(own.errors.every((e) => e instanceof NoriError)).toBe(true);
      // One reconnect, not a loop of failed ones.
      await new Promise((r) => setTimeout(r, 500));
      expect(own.connects()).toBe(2);
    } finally {
      await consumer.stop();
      await own.conn.close();
      await other.deleteQueue(clash).catch(() => undefined);
    }
  });
  it('close() in the middle of a reconnect backoff resolves within 100 ms and leaves no timer', async () => {
    const name = ownConnectionName('close-in-backoff');
    const conn = new Connection(URL_, { connectionName: name, transportOptions: { reconnectIntervalStart: 60_000, reconnectIntervalMax: 60_000 } });
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const backoffs: number[] = [];
    conn.on('reconnecting', (_attempt, delayMs) => backoffs.push(delayMs));
    conn.on('error', () => undefined);
    try {
      await conn.connect();
      // The broker lists a connection a moment after it opens.
      for (let i = 0; i < 50 && (await closeOwnConnections(name)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await waitFor(() => backoffs.length === 1, 'the first backoff');
      expect(backoffs[0]).toBeGreaterThanOrEqual(30_000);
      // The backoff's timer is one of these; close() must clear it, not leave it to fire.
      const during = timers();
      const started = performance.now();
      await conn.close();
      expect(performance.now() - started).toBeLessThan(100);
      expect(timers()).toBe(during - 1);
    } finally {
      await conn.close();
    }
  });
});
