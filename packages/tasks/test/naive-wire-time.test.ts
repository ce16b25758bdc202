/**
 * A naive `eta` / `expires` from a Celery peer (Python's `isoformat()` of a naive datetime, as
 * Celery 5 sends a naive `eta=` unchanged) is read in the App's timezone when that is UTC (the
 * default), never in the process's local zone: this file runs with TZ=America/New_York. With
 * another App timezone it is still read as UTC, as Celery 5.2's worker reads it
 * (`Request.__init__` → `maybe_make_aware(eta, tzlocal)`, which makes a naive time UTC first):
 * Python and nori workers on one queue agree on when it is due. Aware times keep their offset.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { currentTask, TaskRevokedError } from '@nori/tasks';
import { taskBody, taskHeaders } from '@nori/tasks/protocol';
import { REDIS } from './brokers.js';
import { cleanup, testbed } from './testbed.js';

const LOCAL_ZONE = process.env['TZ'];
process.env['TZ'] = 'America/New_York';
afterEach(cleanup);
afterAll(() => {
  if (LOCAL_ZONE === undefined) delete process.env['TZ'];
  else process.env['TZ'] = LOCAL_ZONE;
});

/** Python's naive `datetime.isoformat()` of the UTC wall time of `ms` (microseconds, no offset). */
const naiveUtc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 23)}000`;

/** What a Celery 5.2 peer puts on the wire for `send_task(name, eta=..., expires=...)` with naive datetimes. */
async function sendAsCelery(bed: ReturnType<typeof testbed>, id: string, wire: { eta?: string; expires?: string }): Promise<void> {
  const call = { id, name: 'nw.when', args: [], kwargs: {}, origin: 'gen1@python', timezone: 'UTC' };
  await bed.conn.producer({ serializer: 'json' }).publish(taskBody(call), {
    exchange: '',
    routingKey: bed.queue,
    headers: { ...taskHeaders(call), eta: wire.eta ?? null, expires: wire.expires ?? null },
    correlationId: id,
  });
}

for (const timezone of ['UTC', 'Asia/Tokyo']) {
  describe(`naive wire times, App timezone ${timezone}, process zone America/New_York`, () => {
    it('a naive expires in the past (as UTC) revokes the task; a naive eta runs it when due (as UTC), not hours off', async () => {
      expect(new Date(2026, 0, 1).getTimezoneOffset()).toBe(300);
      const bed = testbed(REDIS, { backend: 'memory://', timezone });
      const ran: Array<{ id: string; at: number; eta: number | undefined; expires: number | undefined }> = [];
      bed.app.task('nw.when', () => {
        const { id, eta, expires } = currentTask();
        ran.push({ id, at: Date.now(), eta: eta?.getTime(), expires: expires?.getTime() });
      });
      await bed.worker();
      // memory:// results are shared by every App in the process: ids of this run's own.
      const [expiredId, naiveId, awareId] = ['naive-expired', 'naive-eta', 'aware-eta'].map((what) => `${what}-${randomUUID()}`) as [string, string, string];
      const now = Date.now();
      // Read as New York time, this would be five hours ahead: it would run.
      const expiredAt = now - 60_000;
      await sendAsCelery(bed, expiredId, { expires: naiveUtc(expiredAt) });
      await expect(bed.app.result(expiredId).get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskRevokedError);
      // Read as New York time, this would be due five hours from now: it would not run in this test.
      const due = Date.now() + 1500;
      const expires = due + 3_600_000;
      await sendAsCelery(bed, naiveId, { eta: naiveUtc(due), expires: naiveUtc(expires) });
      await bed.app.result(naiveId).get({ timeout: 10_000 });
      // Aware times keep their own offset: 09:00 in Tokyo is midnight UTC.
      const tokyoDue = Date.now() + 500;
      const tokyoWall = new Date(tokyoDue + 9 * 3_600_000).toISOString().slice(0, 23);
      await sendAsCelery(bed, awareId, { eta: `${tokyoWall}000+09:00` });
      await bed.app.result(awareId).get({ timeout: 10_000 });
      expect(ran.map((r) => r.id)).toEqual([naiveId, awareId]);
      const [naive, aware] = ran;
      expect(naive).toMatchObject({ eta: due, expires });
      expect(naive?.at).toBeGreaterThanOrEqual(due - 50);
      expect(aware?.eta).toBe(tokyoDue);
      expect(aware?.at).toBeGreaterThanOrEqual(tokyoDue - 50);
    });
  });
}
