/**
 * Early acks (`acksLate: false`, Celery's default) ack the message before the task runs, so a
 * worker that dies mid-task loses it, as in Celery; late acks (nori's default) give it back. A cold
 * stop is the worker dying as far as its messages are concerned: nothing after the task's start
 * runs, and every message still unacked goes back to the broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_BROKERS } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

afterEach(cleanup);

for (const b of ALL_BROKERS) {
  describe(`early and late acks on ${b.name}`, () => {
    for (const acksLate of [false, true]) {
      it(`acksLate: ${acksLate}: a worker stopped cold mid-task ${acksLate ? 'gives the message back' : 'has already acked it'}`, async () => {
        const { app, conn, queue, worker } = testbed(b.broker, { acksLate });
        let started!: (id: string) => void;
        const running = new Promise<string>((resolve) => (started = resolve));
        const hang = app.task('ea.hang', (tag: string) => {
          started(tag);
          return new Promise<never>(() => undefined);
        });
        const w = await worker({ concurrency: 1 });
        await hang.delay('only');
        expect(await running).toBe('only');
        const warm = w.stop();
        await w.stop();
        await warm;
        expect(await conn.queueSize(queue)).toBe(acksLate ? 1 : 0);
      });
    }
  });
}
