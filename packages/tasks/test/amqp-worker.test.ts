/**
 * On RabbitMQ: queues declared exactly as Celery 5.2 declares them (Python's declare after nori's,
 * and nori's after Python's, raise no PRECONDITION_FAILED, with and without x-max-priority), and
 * ETA tasks parked in the delay-queue ladder instead of held unacked.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { AMQP_TRANSPORT_OPTIONS } from '@nori/testing/brokers';
import { AMQP, waitFor } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

/** Declares `queue` the way a Celery 5.2 app with this default queue does (kombu's declare). */
function pythonDeclare(queue: string, maxPriority?: number): string {
  const script = [
    'import sys',
    'from celery import Celery',
    `app = Celery(broker=${JSON.stringify(AMQP)})`,
    `app.conf.task_default_queue = ${JSON.stringify(queue)}`,
    maxPriority === undefined ? '' : `app.conf.task_queue_max_priority = ${maxPriority}`,
    'with app.connection_for_write() as conn:',
    `    app.amqp.queues[${JSON.stringify(queue)}](conn.default_channel).declare()`,
    'print("declared")',
  ].join('\n');
  const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  return `${run.stdout}${run.stderr}`;
}

for (const maxPriority of [undefined, 10]) {
  it(`declares the default queue and exchange exactly as Celery does (x-max-priority: ${maxPriority ?? 'none'})`, async () => {
    // nori first, then Python.
    const first = testbed(AMQP, maxPriority === undefined ? {} : { queueMaxPriority: maxPriority });
    await first.worker();
    expect(pythonDeclare(first.queue, maxPriority)).toContain('declared');
    // Python first, then nori (its worker and a send).
    const second = testbed(AMQP, maxPriority === undefined ? {} : { queueMaxPriority: maxPriority });
    expect(pythonDeclare(second.queue, maxPriority)).toContain('declared');
    second.app.task('t.echo', (x: string) => x);
    await second.worker();
    await second.app.sendTask('t.echo', ['hi']);
    await waitFor('the task to run', async () => (await second.conn.queueSize(second.queue)) === 0, 10_000);
  });
}

it("parks an ETA task in RabbitMQ's delay levels (rounded down, never late) and runs it once, not before its ETA", async () => {
  const { app, conn, worker } = testbed(AMQP, { backend: 'memory://' });
  const ran: number[] = [];
  const t = app.task('t.later', () => ran.push(Date.now()));
  // Held only within 200 ms of its ETA: a far one is parked to come back 100 ms early.
  await worker({ etaHoldMax: 200 });
  const sent = Date.now();
  const r = await t.applyAsync([], {}, { countdown: 7777 });
  // Parked in the level of the remaining wait less 100 ms rounded down to two significant digits
  // (7.6 s or a little less by the time the worker has it): out of the task queue, and not held by the worker.
  const levels = [7600, 7500, 7400, 7300].map((ms) => `nori.delay.${ms}.idle${AMQP_TRANSPORT_OPTIONS.delayLevelIdleMs}`);
  const parked = async (): Promise<boolean> => {
    // One at a time: a missing queue closes the channel the check ran on.
    for (const level of levels) if ((await conn.queueSize(level)) > 0) return true;
    return false;
  };
  await waitFor('the message in a delay level', parked, 5000);
  await r.get({ timeout: 20_000 });
  expect(ran).toHaveLength(1);
  expect((ran[0] as number) - sent).toBeGreaterThanOrEqual(7727);
});
