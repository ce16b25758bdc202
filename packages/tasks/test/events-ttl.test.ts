/**
 * An abandoned event receiver costs RabbitMQ nothing after its expiry: its queue (declared as
 * Celery declares it, with x-message-ttl and x-expires) holds at most TTL worth of events while
 * nobody reads it, then disappears. Checked with `rabbitmqctl list_queues`, as an operator would.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from '@nori/tasks';
import { AMQP_VHOST } from '@nori/testing/brokers';
import { AMQP } from './brokers.js';
import { CELERY_NAMES, deleteCeleryNames } from './celery-names.js';

const run = promisify(execFile);

/** `rabbitmqctl list_queues name messages arguments` for one queue; undefined when it does not exist. */
async function listQueue(name: string): Promise<{ messages: number; arguments: string } | undefined> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '-p', AMQP_VHOST, 'name', 'messages', 'arguments'], { timeout: 60_000 });
  const line = stdout.split('\n').find((l) => l.split('\t')[0] === name);
  if (!line) return undefined;
  const [, messages, args] = line.split('\t');
  return { messages: Number(messages), arguments: args ?? '' };
}

describe('event receiver queues on RabbitMQ', () => {
  const app = new App({ broker: AMQP, eventQueueTtl: 1000, eventQueueExpires: 6000, ...CELERY_NAMES });
  afterAll(async () => {
    await deleteCeleryNames(app.connection);
    await app.close();
  });

  it('an abandoned receiver queue holds at most TTL worth of events, then expires', async () => {
    const receiver = app.events.receiver({});
    // A receiver that declared its queue and went away before consuming (crashed, or never started).
    // The queue's expiry counts from the declare, so the clock starts before it (after the close it
    // measured 5,996 ms once).
    const declaredAt = Date.now();
    await receiver.connection.declare(receiver.queue);
    await receiver.connection.close();
    let sent = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await app.events.dispatcher.send('worker-heartbeat', { freq: 2 });
        sent++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    const before = { sent, at: Date.now() };
    const listed = await listQueue(receiver.queue.name);
    const after = { sent, at: Date.now() };
    publishing = false;
    await publisher;
    expect(listed?.arguments).toContain('x-message-ttl');
    expect(listed?.arguments).toContain('x-expires');
    // Events keep arriving while rabbitmqctl runs; the queue keeps only the last second's worth.
    const perSecond = (after.sent - before.sent) / ((after.at - before.at) / 1000);
    expect(listed?.messages).toBeGreaterThan(0);
    expect(listed?.messages).toBeLessThan(Math.max(perSecond * 1.5, 10));
    expect(after.sent).toBeGreaterThan((listed?.messages ?? 0) * 1.5);
    let gone = false;
    while (!gone && Date.now() - declaredAt < 25_000) {
      gone = (await listQueue(receiver.queue.name)) === undefined;
      if (!gone) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(gone).toBe(true);
    expect(Date.now() - declaredAt).toBeGreaterThanOrEqual(6000);
  }, 60_000);
});
