/**
 * Revokes as they are broadcast, whoever sends them (this server, `nori control revoke`,
 * `celery control revoke`, AsyncResult.revoke()): a queue of the server's own on the mailbox's
 * fanout exchange, read without acks, as a worker reads its node queue (it never replies). A task
 * revoked before it starts will not run, since every worker keeps the id, yet its events say
 * RECEIVED until a worker meets it again, which for a far ETA is when the ETA comes.
 */
import { randomUUID } from 'node:crypto';
import type { App } from '@nori/tasks';
import type { ControlCommand } from '@nori/tasks/control';

const ids = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** Calls `onRevoke` with the ids of every revoke command; resolves to a stop function. */
export async function watchRevokes(app: App, onRevoke: (taskIds: string[]) => void): Promise<() => Promise<void>> {
  const transport = await app.connection.transport();
  const queue = app.control.mailbox.nodeQueue(`nori-flower-${randomUUID().slice(0, 8)}`, transport.capabilities);
  const consumer = app.connection.consumer([queue], { noAck: true, prefetch: 0, accept: app.conf.accept }, (message) => {
    const command = message.body as Partial<ControlCommand> | null;
    if (command?.method === 'revoke' || command?.method === 'terminate') {
      const revoked = ids(command.arguments?.['task_id']);
      if (revoked.length > 0) onRevoke(revoked);
    }
  });
  consumer.on('error', () => undefined);
  await consumer.start();
  return async () => {
    await consumer.stop();
    await app.connection.deleteQueue(queue).catch(() => undefined);
  };
}
