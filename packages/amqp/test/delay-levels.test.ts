/**
 * Delay levels go away by themselves: the level queue expires after the level plus the idle time
 * (`delayLevelIdleMs`) without a delayed publish, and its auto-delete exchange goes with it.
 */
import amqplib from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, InvalidArgumentError, Queue, silentLogger } from '@nori/core';
import { amqpSettings } from '@nori/amqp';
import { TestNames } from '@nori/testing';
import { AMQP_URL } from '@nori/testing/brokers';

const IDLE_MS = 1000;
const settings = (transportOptions: Record<string, unknown>) => amqpSettings({ transportOptions, logger: silentLogger, connectTimeout: 1000 });

/** Resolves once `condition` holds, checking every 100 ms; fails naming `what` after `ms`. */
async function eventually(condition: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('delay levels', () => {
  const names = new TestNames('delay-levels');
  const conn = new Connection(AMQP_URL, { transportOptions: { delayLevelIdleMs: IDLE_MS } });
  const raw = amqplib.connect(AMQP_URL);
  afterAll(async () => {
    await names.deleteAll(conn);
    await conn.close();
    await (await raw).close();
  });

  /** On a channel of its own: the 404 closes it. */
  async function exists(kind: 'queue' | 'exchange', name: string): Promise<boolean> {
    const ch = await (await raw).createChannel();
    ch.on('error', () => undefined);
    try {
      await (kind === 'queue' ? ch.checkQueue(name) : ch.checkExchange(name));
      await ch.close();
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    }
  }

  it('the idle time is a transport option (camelCase or snake_case, a URL string too), 5 minutes by default', () => {
    expect(settings({}).delayLevelIdleMs).toBe(300_000);
    expect(settings({ delayLevelIdleMs: 2000 }).delayLevelIdleMs).toBe(2000);
    expect(settings({ delay_level_idle_ms: '1500' }).delayLevelIdleMs).toBe(1500);
    expect(() => settings({ delayLevelIdleMs: 'soon' })).toThrow(InvalidArgumentError);
  });

  it('a level queue and its exchange are gone once the level has been idle for its idle time', async () => {
    const queue = new Queue(names.name('target'), { durable: false });
    const level = `nori.delay.300.idle${IDLE_MS}`;
    try {
      await conn.declare(queue);
      await conn.producer().publish('later', { routingKey: queue.name, delay: 300 });
      expect(await exists('queue', level)).toBe(true);
      expect(await exists('exchange', level)).toBe(true);
      await eventually(async () => (await conn.queueSize(queue)) === 1, 'the delayed message in its queue');
      // Only the exchange is polled: a passive declare of the queue would renew its expiry.
      await eventually(async () => !(await exists('exchange', level)), 'the level exchange to go with its queue');
      expect(await exists('queue', level)).toBe(false);
      // A level that went away is declared again by the next delayed publish.
      await conn.producer().publish('again', { routingKey: queue.name, delay: 300 });
      await eventually(async () => (await conn.queueSize(queue)) === 2, 'the second delayed message in its queue');
    } finally {
      await conn.deleteQueue(level).catch(() => undefined);
      await conn.deleteExchange(level).catch(() => undefined);
    }
  });
});
