/**
 * Events between nori and Python Celery 5.2, both ways, on Redis and RabbitMQ: Celery's own
 * EventReceiver and the `celery events --dump` CLI see a nori worker's heartbeats and task events;
 * a nori receiver sees a real `celery worker -E`'s.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from '@nori/tasks';
import { EventState, type CeleryEvent } from '@nori/tasks/events';
import { NETWORK_BROKERS, waitFor } from './brokers.js';
import { PYTHON_DIR, startPython, type PythonProcess } from './python/python-process.js';
import { cleanup, testbed } from './testbed.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await cleanup();
});

const setup = (broker: string): { app: App; queue: string } => testbed(broker, { backend: 'memory://', sendEvents: true });

for (const b of NETWORK_BROKERS) {
  describe(`events: nori ↔ Python Celery 5.2 on ${b.name}`, () => {
    it("Celery's EventReceiver and `celery events --dump` see a nori worker's heartbeats and its task events, batched and compressed", async () => {
      // Task events leave as a full batch of 12, or at the worker's stop (a window no test waits out).
      const { app } = testbed(b.broker, { backend: 'memory://', sendEvents: true, eventBatchWindow: 60_000, eventBatchSize: 12 });
      const dump: PythonProcess = await startPython([`${PYTHON_DIR}event_dump.py`, b.broker, '40'], {}, /^ready$/m);
      cleanups.push(() => dump.stop());
      // And `celery events --dump` itself, Celery's CLI.
      const cli = await startPython(
        ['-m', 'celery', '-A', 'interop_app', 'events', '--dump'],
        { NORI_BROKER: b.broker, NORI_BACKEND: '', NORI_QUEUE: 'celery' },
        /starting capture/,
      );
      cleanups.push(() => cli.stop());
      const add = app.task('evi.add', (x: number, y: number) => x + y);
      const worker = app.worker({ hostname: `nori-${randomUUID().slice(0, 8)}@interop` });
      cleanups.push(() => worker.stop());
      await worker.start();
      await waitFor('the CLI to show the nori worker', () => cli.output().includes(`${worker.hostname} [`));
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await add.delay(20 + i, 22));
      expect(await Promise.all(results.map((r) => r.get({ timeout: 10_000 })))).toEqual([42, 43, 44, 45, 46, 47]);
      const ids = results.map((r) => r.id);
      const mine = (): Array<Record<string, unknown>> => dump.json().filter((e) => e['hostname'] === worker.hostname);
      const taskEvents = (): Array<Record<string, unknown>> => mine().filter((e) => ids.includes(e['uuid'] as string));
      // 18 task events: the full batch of 12 reaches Python, the other 6 wait for the stop.
      await waitFor('a heartbeat and the first batch in Python', () => mine().some((e) => e['type'] === 'worker-heartbeat') && taskEvents().length >= 12);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(taskEvents()).toHaveLength(12);
      await worker.stop();
      await waitFor('worker-offline in Python', () => mine().some((e) => e['type'] === 'worker-offline'));
      const types = mine().map((e) => e['type']);
      expect(types[0]).toBe('worker-online');
      expect(types.at(-1)).toBe('worker-offline');
      expect(taskEvents()).toHaveLength(18);
      for (const id of ids)
        expect(
          taskEvents()
            .filter((e) => e['uuid'] === id)
            .map((e) => e['type']),
        ).toEqual(['task-received', 'task-started', 'task-succeeded']);
      const received = taskEvents().find((e) => e['type'] === 'task-received');
      expect(received).toMatchObject({ uuid: ids[0], name: 'evi.add', args: '(20, 22)', pid: process.pid });
      // Celery's receiver adds local_received and adjusts the timestamp by utcoffset: both numbers.
      expect(received).toMatchObject({ local_received: expect.any(Number), timestamp: expect.any(Number) });
      expect(taskEvents().find((e) => e['type'] === 'task-succeeded')).toMatchObject({ uuid: ids[0], result: '42' });
      expect(mine().find((e) => e['type'] === 'worker-heartbeat')).toMatchObject({
        freq: 2,
        sw_ident: 'nori',
        active: expect.any(Number),
        processed: expect.any(Number),
      });
      await waitFor('the CLI to show every task', () => ids.every((id, i) => cli.output().includes(`task succeeded: evi.add(${id}) args=(${20 + i}, 22)`)));
      expect(cli.output()).toMatch(new RegExp(`${worker.hostname} \\[[^\\]]+\\] heartbeat: .*sw_ident=nori`));
    });

    it("a nori receiver sees a `celery worker -E`'s heartbeats and task events", async () => {
      const { app, queue } = setup(b.broker);
      const events: CeleryEvent[] = [];
      const state = new EventState();
      const receiver = await app.events.receive({ '*': (e) => (events.push(e), state.event(e)) });
      cleanups.push(() => receiver.stop());
      const node = `${queue}@python`;
      const worker = await startPython(
        ['-m', 'celery', '-A', 'interop_app', 'worker', '--pool', 'solo', '-E', '-Q', queue, '-n', node, '--without-gossip', '--without-mingle', '-l', 'INFO'],
        { NORI_BROKER: b.broker, NORI_BACKEND: '', NORI_QUEUE: queue },
        /ready\./,
      );
      cleanups.push(() => worker.stop());
      const sent = await app.sendTask('interop.add', [1, 2], {}, { queue });
      await waitFor('the Python task events', () => state.task(sent.id)?.state === 'SUCCESS');
      await waitFor('a Python heartbeat', () => events.some((e) => e.type === 'worker-heartbeat' && e.hostname === node));
      expect(state.task(sent.id)).toMatchObject({ name: 'interop.add', hostname: node, result: '3', args: '(1, 2)' });
      expect(state.task(sent.id)?.history.map((h) => h.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
      expect(state.alive(node)).toBe(true);
      expect(state.workers.get(node)).toMatchObject({ swIdent: 'py-celery', freq: 2000 });
      await worker.stop();
      await waitFor('worker-offline', () => events.some((e) => e.type === 'worker-offline' && e.hostname === node));
      expect(state.alive(node)).toBe(false);
    });
  });
}
